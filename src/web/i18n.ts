// Every label of the web pages (ops and customer portal), in Polish and English.
import type { Language } from '../reports/format.js';

const labels = {
  pl: {
    opsTitle: 'Dostępność i rekompensaty',
    portalTitle: 'Dostępność Twoich serwerów',
    overview: 'Przegląd',
    months: 'Miesiące',
    logout: 'Wyloguj',
    customer: 'Klient',
    server: 'Serwer',
    tier: 'Pakiet',
    state: 'Stan',
    up: 'działa',
    down: 'niedostępny',
    unknown: 'brak pomiaru',
    uptime: 'Dostępność',
    downtime: 'Przerwy',
    unmonitored: 'Bez pomiaru',
    budget: 'Zapas do następnego progu',
    budgetNone: 'wszystkie progi przekroczone',
    projected: 'Prognozowana rekompensata',
    monthToDate: 'Miesiąc {month} do {asOf}',
    noSnapshot: 'Dane miesiąca w toku jeszcze się liczą; odśwież za chwilę.',
    timeline: 'Oś czasu miesiąca',
    slaRow: 'SLA (wszystkie lokalizacje)',
    location: 'lokalizacja {name}',
    legendUp: 'działa',
    legendDown: 'niedostępny',
    legendUnmonitored: 'bez pomiaru',
    legendMaintenance: 'prace serwisowe',
    legendOutside: 'poza okresem / jeszcze nie minęło',
    outages: 'Przerwy',
    from: 'Od',
    to: 'Do',
    duration: 'Czas trwania',
    none: 'brak',
    month: 'Miesiąc',
    revision: 'Wersja',
    revisions: 'Wersje',
    kind: 'Rodzaj',
    issuedAt: 'Wydano',
    reason: 'Powód',
    total: 'Łącznie',
    files: 'Pliki',
    creditPercent: 'Rekomp.',
    amount: 'Kwota',
    reports: 'Raporty miesięczne',
    noReports: 'Nie ma jeszcze rozliczonych miesięcy.',
    notIssued: 'Miesiąc nie został jeszcze rozliczony.',
    states: {
      held: 'wstrzymany',
      'needs-review': 'do przeglądu',
      closed: 'rozliczony',
      restated: 'skorygowany',
      open: 'w toku',
    } as Record<string, string>,
    kinds: { close: 'rozliczenie', restatement: 'korekta', approval: 'zatwierdzenie', adopted: 'przejęty' } as Record<
      string,
      string
    >,
    loginTitle: 'Logowanie',
    loginToken: 'Token API',
    loginButton: 'Zaloguj',
    loginFailed: 'Nieprawidłowy token.',
    loginNoScope: 'Ten token nie ma uprawnienia read, potrzebnego do tych stron.',
    loginThrottled: 'Zbyt wiele nieudanych prób z tego adresu. Spróbuj ponownie za minutę.',
    tooManyComputations:
      'Ta strona jest liczona na bieżąco z pomiarów, a strony liczone są tu otwierane zbyt często. Spróbuj ponownie za {seconds} s.',
    storeUnavailable:
      'Ta strona jest liczona z pomiarów, a ich baza teraz nie odpowiada. Spróbuj ponownie za {seconds} s.',
    loginDisabled:
      'Strona nie jest dostępna: demon nie ma tokenu API (http.tokens, http.token lub zmienna z http.tokenEnv).',
    forbidden: 'Link jest nieprawidłowy lub wygasł. Poproś opiekuna klienta o nowy.',
    pdf: 'raport PDF',
    back: 'wróć',
  },
  en: {
    opsTitle: 'Availability and credits',
    portalTitle: 'Availability of your servers',
    overview: 'Overview',
    months: 'Months',
    logout: 'Log out',
    customer: 'Customer',
    server: 'Server',
    tier: 'Tier',
    state: 'State',
    up: 'up',
    down: 'down',
    unknown: 'no probe yet',
    uptime: 'Uptime',
    downtime: 'Downtime',
    unmonitored: 'Unmonitored',
    budget: 'Budget to the next bracket',
    budgetNone: 'every bracket crossed',
    projected: 'Projected credit',
    monthToDate: 'Month {month} up to {asOf}',
    noSnapshot: 'The month to date is still being computed; reload in a moment.',
    timeline: 'Month timeline',
    slaRow: 'SLA (all locations)',
    location: 'location {name}',
    legendUp: 'up',
    legendDown: 'down',
    legendUnmonitored: 'unmonitored',
    legendMaintenance: 'maintenance',
    legendOutside: 'not covered / not yet',
    outages: 'Outages',
    from: 'From',
    to: 'To',
    duration: 'Duration',
    none: 'none',
    month: 'Month',
    revision: 'Revision',
    revisions: 'Revisions',
    kind: 'Kind',
    issuedAt: 'Issued',
    reason: 'Reason',
    total: 'Total',
    files: 'Files',
    creditPercent: 'Credit',
    amount: 'Amount',
    reports: 'Monthly reports',
    noReports: 'No month has been closed yet.',
    notIssued: 'This month has not been closed yet.',
    states: {
      held: 'held',
      'needs-review': 'needs review',
      closed: 'closed',
      restated: 'restated',
      open: 'running',
    } as Record<string, string>,
    kinds: { close: 'close', restatement: 'restatement', approval: 'approval', adopted: 'adopted' } as Record<
      string,
      string
    >,
    loginTitle: 'Log in',
    loginToken: 'API token',
    loginButton: 'Log in',
    loginFailed: 'Wrong token.',
    loginNoScope: 'This token does not have the read scope these pages need.',
    loginThrottled: 'Too many failed attempts from this address. Try again in a minute.',
    tooManyComputations:
      'This page is computed from the latest measurements, and computed pages are being opened here too often. Try again in {seconds} s.',
    storeUnavailable:
      'This page is computed from the measurements, and their database does not answer now. Try again in {seconds} s.',
    loginDisabled:
      'Not available: the daemon has no API token (http.tokens, http.token or the variable http.tokenEnv names).',
    forbidden: 'The link is not valid or has expired. Ask your account manager for a new one.',
    pdf: 'PDF report',
    back: 'back',
  },
} as const;

export type WebLabels = (typeof labels)['en'];

export const webLabels = (language: Language): WebLabels => labels[language] as WebLabels;

/** The language a request asks for: `?lang=`, else the browser's first choice of pl or en, else `fallback`. */
export function requestLanguage(query: unknown, acceptLanguage: string | undefined, fallback: Language): Language {
  const asked = (query as { lang?: unknown } | undefined)?.lang;
  if (asked === 'pl' || asked === 'en') return asked;
  if (acceptLanguage) {
    for (const part of acceptLanguage.split(',')) {
      const tag = part.trim().slice(0, 2).toLowerCase();
      if (tag === 'pl' || tag === 'en') return tag;
    }
  }
  return fallback;
}
