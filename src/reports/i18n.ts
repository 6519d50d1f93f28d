// Every label of the customer report, in Polish and English.
import type { Language } from './format.js';

const messages = {
  pl: {
    title: 'Raport rekompensat SLA',
    month: 'Miesiąc rozliczeniowy',
    timeZone: 'Strefa czasowa',
    monthLength: 'Długość miesiąca',
    customer: 'Klient',
    customerId: 'Identyfikator klienta',
    tier: 'Pakiet wsparcia zaawansowanego',
    tierTerms: 'Warunki pakietu',
    baseFee: 'Opłata bazowa (miesięcznie)',
    serverFee: 'Opłata za każdą OCI (miesięcznie)',
    monthlyFee: 'Opłata za ten miesiąc',
    brackets: 'Rekompensata (% miesięcznej opłaty) przy dostępności poniżej',
    below: 'Dostępność poniżej',
    credit: 'Rekompensata',
    servers: 'Serwery objęte wsparciem',
    server: 'Serwer',
    eligible: 'Czas rozliczany (h:mm:ss)',
    downtime: 'Przerwy (h:mm:ss)',
    unmonitored: 'Bez pomiaru (h:mm:ss)',
    monitored: 'Pokrycie pomiarem',
    notAvailable: 'b.d.',
    uptime: 'Dostępność',
    bracket: 'Próg',
    creditPercent: 'Rekomp.',
    creditBase: 'Podstawa',
    creditAmount: 'Kwota',
    none: 'brak',
    outagesOf: 'Przerwy w działaniu serwera',
    start: 'Początek',
    end: 'Koniec',
    duration: 'Czas trwania',
    reason: 'Powód',
    maintenanceOf: 'Zapowiedziane prace serwisowe (wyłączone z rozliczenia)',
    noEligible: 'brak czasu rozliczanego',
    total: 'Łączna kwota rekompensaty',
    slaMet:
      'W tym miesiącu poziom dostępności (SLA) został dotrzymany dla wszystkich serwerów: rekompensata nie przysługuje.',
    howTitle: 'Jak liczymy dostępność',
    // The method, one sentence group each; method-text.ts picks and orders them from the month's terms.
    howMonth:
      'Miesiąc trwa od północy czasu lokalnego pierwszego dnia do północy pierwszego dnia następnego miesiąca, w rzeczywistym czasie (zmiana czasu wydłuża lub skraca miesiąc o godzinę).',
    howEligible:
      'Czas rozliczany to czas objęcia serwera wsparciem w danym miesiącu, pomniejszony o zapowiedziane prace serwisowe.',
    howDowntime:
      'Niedostępność zaczyna się od pierwszej z co najmniej {confirmations} kolejnych nieudanych prób i trwa do najbliższej udanej próby.',
    howMajority:
      'Przy kilku lokalizacjach pomiarowych liczy się, gdy serwer jest niedostępny z większości lokalizacji, które mają świeży pomiar.',
    howQuorum:
      'Przy kilku lokalizacjach pomiarowych liczy się, gdy serwer jest niedostępny z co najmniej {quorum} z nich.',
    howUnmonitored: 'Czas bez świeżego pomiaru nie jest niedostępnością: liczy się jako dostępny i jest podany osobno.',
    howMonitored:
      'Pokrycie pomiarem to udział czasu rozliczanego ze świeżym pomiarem. Miesiąc, w którym dla któregoś serwera spada ono poniżej {min} %, przed rozliczeniem sprawdza człowiek.',
    howUptime:
      'Dostępność = 100 × (czas rozliczany − niedostępność) / czas rozliczany, liczona dokładnie w milisekundach i zaokrąglona w dół do 4 miejsc. Rekompensata to próg o najniższej wartości, poniżej której spadła dostępność; progi się nie sumują.',
    howAmount: 'Kwota = podstawa × procent / 100, zaokrąglona do pełnego grosza (od połowy w górę).',
    serverBase: 'Podstawa to miesięczna opłata za serwer, proporcjonalnie do czasu objęcia wsparciem.',
    customerBase:
      'Podstawa to cała miesięczna opłata klienta (opłata bazowa i opłaty za serwery, te ostatnie proporcjonalnie do czasu objęcia wsparciem); rekompensata według najgorszego serwera jest wypłacana raz.',
    howCap: 'Rekompensata wynosi najwyżej {cap} podstawy.',
    footer: 'Raport wygenerowany z zapisanych pomiarów; te same dane dają zawsze ten sam raport.',
    netAmounts: 'Kwoty netto; VAT dolicza faktura.',
    draftMark: 'PROJEKT',
    draftHeader: 'PROJEKT – dokument roboczy, nie jest rozliczeniem i nie trafia do księgi rekompensat',
    inProgress: 'Miesiąc w toku: dane do {asOf}; czas, który jeszcze nie upłynął, nie jest liczony.',
    revision: 'Wersja',
    correction: 'Korekta: wersja {number} zastępuje wersję {replaces} z {date}. Powód: {reason}',
    incidentsOf: 'Zgłoszenia i błędy monitoringu',
    incidentKind: 'Rodzaj',
    effect: 'Wpływ na przerwy',
    reportedOutage: 'zgłoszona awaria',
    ticket: 'zgłoszenie',
    monitoringFault: 'wyłączone: błąd monitoringu',
    incidentTotals:
      'Przerwy znane tylko ze zgłoszeń: {reported}. Przerwy wykryte przez pomiar i wyłączone jako błąd monitoringu (liczone jako czas bez pomiaru): {excluded}.',
    lateMaintenanceOf: 'Prace serwisowe zapowiedziane zbyt późno (wliczone do czasu rozliczanego)',
    announcedAt: 'Zapowiedziano',
    notAnnounced: 'brak daty',
    noticeRequired: 'Wymagane wyprzedzenie zapowiedzi: {notice}.',
    howIncidents:
      'Awaria zgłoszona przez klienta liczy się jako niedostępność (raz, także gdy pokrywa się z przerwą wykrytą przez pomiar). Okres błędu naszego monitoringu nie jest niedostępnością: liczy się jako czas bez pomiaru.',
    howNotice:
      'Prace serwisowe są wyłączone z rozliczenia, gdy zapowiedziano je co najmniej {notice} przed ich rozpoczęciem.',
  },
  en: {
    title: 'SLA credit report',
    month: 'Billing month',
    timeZone: 'Time zone',
    monthLength: 'Month length',
    customer: 'Customer',
    customerId: 'Customer id',
    tier: 'Advanced support tier',
    tierTerms: 'Tier terms',
    baseFee: 'Base fee (monthly)',
    serverFee: 'Fee per covered server (monthly)',
    monthlyFee: 'Fee for this month',
    brackets: 'Credit (% of the monthly fee) when uptime is below',
    below: 'Uptime below',
    credit: 'Credit',
    servers: 'Covered servers',
    server: 'Server',
    eligible: 'Eligible (h:mm:ss)',
    downtime: 'Downtime (h:mm:ss)',
    unmonitored: 'Unmonitored (h:mm:ss)',
    monitored: 'Monitored',
    notAvailable: 'n/a',
    uptime: 'Uptime',
    bracket: 'Bracket',
    creditPercent: 'Credit %',
    creditBase: 'Base',
    creditAmount: 'Amount',
    none: 'none',
    outagesOf: 'Outages of server',
    start: 'Start',
    end: 'End',
    duration: 'Duration',
    reason: 'Reason',
    maintenanceOf: 'Announced maintenance (excluded from the calculation)',
    noEligible: 'no eligible time',
    total: 'Total credit',
    slaMet: 'This month the uptime commitment (SLA) was met for every server: no credit is due.',
    howTitle: 'How uptime is computed',
    howMonth:
      'A month runs from local midnight on the 1st to local midnight on the 1st of the next month, in real elapsed time (a clock change makes it an hour longer or shorter).',
    howEligible: 'Eligible time is the part of the month in which the server was covered, minus announced maintenance.',
    howDowntime:
      'Downtime starts at the first of at least {confirmations} consecutive failed probes and lasts until the next successful probe.',
    howMajority:
      'With several probing locations it counts while a majority of the locations with a fresh observation see the server down.',
    howQuorum: 'With several probing locations it counts while at least {quorum} of them see the server down.',
    howUnmonitored: 'Time without a fresh observation is not downtime: it counts as available and is shown separately.',
    howMonitored:
      "The monitored share is the part of eligible time with a fresh observation. A month in which any server's share is below {min} % is reviewed by a person before it is issued.",
    howUptime:
      'Uptime = 100 x (eligible - downtime) / eligible, computed exactly in milliseconds and rounded down to 4 places. The credit is the bracket with the lowest threshold the uptime fell below; brackets do not add up.',
    howAmount: 'Amount = base x percent / 100, rounded half up to the grosz.',
    serverBase: "The base is the server's monthly fee, prorated by its covered time.",
    customerBase:
      "The base is the customer's whole monthly fee (base fee and server fees, each server's prorated by its covered time); the credit of the worst server is paid once.",
    howCap: 'The credit is at most {cap} of the base.',
    footer: 'Generated from stored observations; the same data always gives the same report.',
    netAmounts: 'Amounts are net; VAT is added by invoicing.',
    draftMark: 'DRAFT',
    draftHeader: 'DRAFT – a working document, not an issued statement; it is not in the credit ledger',
    inProgress: 'Month in progress: figures up to {asOf}; time not yet elapsed is not counted.',
    revision: 'Revision',
    correction: 'Correction: revision {number} replaces revision {replaces} of {date}. Reason: {reason}',
    incidentsOf: 'Reported outages and monitoring faults',
    incidentKind: 'Kind',
    effect: 'Effect on downtime',
    reportedOutage: 'reported outage',
    ticket: 'ticket',
    monitoringFault: 'excluded: monitoring fault',
    incidentTotals:
      'Downtime known only from reports: {reported}. Downtime the probes found that is excluded as a monitoring fault (counted as unmonitored): {excluded}.',
    lateMaintenanceOf: 'Maintenance announced too late (counted in eligible time)',
    announcedAt: 'Announced',
    notAnnounced: 'no date',
    noticeRequired: 'Required notice: {notice}.',
    howIncidents:
      'An outage the customer reported counts as downtime (once, also where it overlaps an outage the probes found). A fault of our own monitoring is not downtime: its time counts as unmonitored.',
    howNotice: 'Maintenance is excluded when it was announced at least {notice} before it starts.',
  },
} as const;

export type Messages = (typeof messages)[Language];

/** The labels for a language. */
export function messagesFor(language: Language): Messages {
  return messages[language];
}
