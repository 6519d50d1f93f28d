// Number, money, date and duration formats per report language. Pure text work on exact integers: no floats.
import { DateTime } from 'luxon';
import { parseMonth } from '../sla/month.js';

export type Language = 'pl' | 'en';

function groupThousands(digits: string, separator: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, separator);
}

/** Grosze as money: pl `1 234,56 zł`, en `PLN 1,234.56`. */
export function formatMoney(grosze: number, language: Language): string {
  const sign = grosze < 0 ? '-' : '';
  const abs = Math.abs(grosze);
  const whole = String(Math.floor(abs / 100));
  const fraction = String(abs % 100).padStart(2, '0');
  return language === 'pl'
    ? `${sign}${groupThousands(whole, ' ')},${fraction} zł`
    : `${sign}PLN ${groupThousands(whole, ',')}.${fraction}`;
}

/** A decimal string ("90.5") in the language's notation, without a unit: pl `90,5`, en `90.5`. */
export function formatDecimalText(decimal: string, language: Language): string {
  return language === 'pl' ? decimal.replace('.', ',') : decimal;
}

/** A decimal string ("99.5973") in the language's notation, with a percent sign: pl `99,5973 %`, en `99.5973 %`. */
export function formatPercentText(decimal: string, language: Language): string {
  return `${formatDecimalText(decimal, language)} %`;
}

/** Hundredths of a percent as a percentage: 1_000 -> pl `10 %`, 250 -> `2,5 %`. */
export function formatPercentHundredthsText(hundredths: number, language: Language): string {
  const whole = Math.floor(hundredths / 100);
  const fraction = String(hundredths % 100)
    .padStart(2, '0')
    .replace(/0+$/, '');
  const text = fraction ? `${whole}${language === 'pl' ? ',' : '.'}${fraction}` : String(whole);
  return `${text} %`;
}

/** A duration in ms as `745 h 00 min 00 s` (whole seconds, rounded down). */
export function formatDuration(ms: number): string {
  const totalSeconds = Math.floor(ms / 1_000);
  const hours = Math.floor(totalSeconds / 3_600);
  const minutes = Math.floor((totalSeconds % 3_600) / 60);
  const seconds = totalSeconds % 60;
  return `${hours} h ${String(minutes).padStart(2, '0')} min ${String(seconds).padStart(2, '0')} s`;
}

/** Local date and time with its UTC offset, so the repeated hour of a DST change is unambiguous. */
export function formatLocalTime(ms: number, timeZone: string, language: Language): string {
  const local = DateTime.fromMillis(ms, { zone: timeZone });
  return local.toFormat(language === 'pl' ? 'dd.MM.yyyy HH:mm:ss ZZ' : 'yyyy-MM-dd HH:mm:ss ZZ');
}

/** A local calendar date: pl `02.11.2026`, en `2026-11-02`. */
export function formatLocalDate(ms: number, timeZone: string, language: Language): string {
  return DateTime.fromMillis(ms, { zone: timeZone }).toFormat(language === 'pl' ? 'dd.MM.yyyy' : 'yyyy-MM-dd');
}

/** A duration in ms as `745:00:00` (hours:minutes:seconds, whole seconds rounded down) for tables. */
export function formatClockDuration(ms: number): string {
  const totalSeconds = Math.floor(ms / 1_000);
  const minutes = Math.floor((totalSeconds % 3_600) / 60);
  return `${Math.floor(totalSeconds / 3_600)}:${String(minutes).padStart(2, '0')}:${String(totalSeconds % 60).padStart(2, '0')}`;
}

/** A translated template with `{name}` placeholders filled (a placeholder without a value stays as it is). */
export function fillTemplate(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    values[key] === undefined ? whole : String(values[key]),
  );
}

/** A month as people name it: pl `październik 2026`, en `October 2026`. */
export function monthTitle(month: string, language: Language): string {
  const { year, month: monthNumber } = parseMonth(month);
  return DateTime.fromObject({ year, month: monthNumber, day: 1 }, { zone: 'UTC' })
    .setLocale(language)
    .toFormat('LLLL yyyy');
}
