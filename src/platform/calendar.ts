/** Calendar dates as `YYYY-MM-DD` strings: they compare correctly as strings and carry no time zone. */
export type LocalDate = string;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The date it is at `instant` in `timeZone` (an IANA name Intl knows). */
export function localDate(instant: Date, timeZone: string): LocalDate {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    // Bounded by the number of IANA zones (a few hundred).
    formatters.set(timeZone, format);
  }
  const parts = format.formatToParts(instant);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year').padStart(4, '0')}-${part('month')}-${part('day')}`;
}

export function addDays(date: LocalDate, days: number): LocalDate {
  const t = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: LocalDate, to: LocalDate): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}
