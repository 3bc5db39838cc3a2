/**
 * `updated_at` parsing. An event's identity is (lead_id, instant), so the same instant written
 * with another offset or without milliseconds must give the same key. We parse RFC 3339 once
 * into a canonical UTC string, to the microsecond (PostgreSQL's precision), and use it everywhere.
 */

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/** Canonical form `YYYY-MM-DDTHH:MM:SS.fffZ` (or `.ffffffZ` with microseconds), or undefined when `text` is not a valid RFC 3339 instant. */
export function parseInstant(text: string): string | undefined {
  const match = RFC3339.exec(text.trim());
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction = '', zulu, sign, offH = '0', offM = '0'] = match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offsetMinutes = zulu ? 0 : (sign === '-' ? -1 : 1) * (Number(offH) * 60 + Number(offM));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59 || Number(offH) > 23 || Number(offM) > 59) return undefined;

  const utc = new Date(utcMillis(year, month, day, hour, minute, second) - offsetMinutes * 60_000);
  if (Number.isNaN(utc.getTime()) || utc.getUTCFullYear() < 1 || utc.getUTCFullYear() > 9999)
    return undefined;
  // Sub-second digits beyond microseconds are dropped (PostgreSQL keeps microseconds).
  // Milliseconds (JavaScript's ISO form) unless the instant has finer digits.
  const micros = fraction.padEnd(6, '0').slice(0, 6);
  return `${utc.toISOString().slice(0, 19)}.${micros.endsWith('000') ? micros.slice(0, 3) : micros}Z`;
}

/** Date.UTC, except that years 0–99 stay themselves (Date.UTC maps them to 1900–1999). */
function utcMillis(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}
