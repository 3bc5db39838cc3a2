/**
 * `updated_at` parsing. An event's identity is (lead_id, instant), so the same instant written
 * with another offset or without milliseconds must give the same key. We parse RFC 3339 once
 * into a canonical UTC string, to the microsecond (PostgreSQL's precision), and use it everywhere.
 *
 * Accepted: `YYYY-MM-DD(T|t| )HH:MM:SS[(.|,)1-9 digits](Z|z|±HH[:]MM)`, surrounding blanks
 * ignored. Read character by character: every event of a batch passes here, and a regular
 * expression with a dozen captures cost a tenth of the batch path's time.
 */

/** Canonical form `YYYY-MM-DDTHH:MM:SS.fffZ` (or `.ffffffZ` with microseconds), or undefined when `text` is not a valid RFC 3339 instant. */
export function parseInstant(text: string): string | undefined {
  const s = text.trim();
  // The shortest form is `YYYY-MM-DDTHH:MM:SSZ` (20); the longest has 9 fraction digits and an offset.
  if (s.length < 20 || s.length > 35) return undefined;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  const separator = s.charCodeAt(10);
  if (
    year < 0 ||
    month < 0 ||
    day < 0 ||
    hour < 0 ||
    minute < 0 ||
    second < 0 ||
    s.charCodeAt(4) !== DASH ||
    s.charCodeAt(7) !== DASH ||
    s.charCodeAt(13) !== COLON ||
    s.charCodeAt(16) !== COLON ||
    (separator !== T && separator !== LOWER_T && separator !== SPACE)
  ) {
    return undefined;
  }

  // Fraction: up to microseconds kept (PostgreSQL's precision); digits beyond are dropped.
  let at = 19;
  let micros = 0;
  let fractionDigits = 0;
  const mark = s.charCodeAt(at);
  if (mark === DOT || mark === COMMA) {
    at++;
    while (at < s.length && isDigit(s.charCodeAt(at))) {
      if (fractionDigits < 6) micros = micros * 10 + (s.charCodeAt(at) - ZERO);
      fractionDigits++;
      at++;
    }
    if (fractionDigits === 0 || fractionDigits > 9) return undefined;
    for (let n = fractionDigits; n < 6; n++) micros *= 10;
  }

  let offsetMinutes = 0;
  const zone = s.charCodeAt(at);
  if (zone === Z || zone === LOWER_Z) {
    if (at + 1 !== s.length) return undefined;
  } else if (zone === PLUS || zone === MINUS) {
    const offH = digits(s, at + 1, 2);
    const colon = s.charCodeAt(at + 3) === COLON ? 1 : 0;
    const offM = digits(s, at + 3 + colon, 2);
    if (offH < 0 || offM < 0 || at + 5 + colon !== s.length || offH > 23 || offM > 59) return undefined;
    offsetMinutes = (zone === MINUS ? -1 : 1) * (offH * 60 + offM);
  } else {
    return undefined;
  }

  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const utc = new Date(utcMillis(year, month, day, hour, minute, second) - offsetMinutes * 60_000);
  if (Number.isNaN(utc.getTime()) || utc.getUTCFullYear() < 1 || utc.getUTCFullYear() > 9999)
    return undefined;
  // Milliseconds (JavaScript's ISO form) unless the instant has finer digits.
  const fraction = String(micros).padStart(6, '0');
  return `${utc.toISOString().slice(0, 19)}.${micros % 1000 === 0 ? fraction.slice(0, 3) : fraction}Z`;
}

// The characters the grammar names, as the char codes `charCodeAt` returns.
const [ZERO, DASH, COLON, DOT, COMMA, PLUS, SPACE, T, LOWER_T, Z, LOWER_Z] = [...'0-:.,+ TtZz'].map((char) =>
  char.charCodeAt(0),
) as [number, number, number, number, number, number, number, number, number, number, number];
const MINUS = DASH;

const isDigit = (code: number) => code >= ZERO && code <= ZERO + 9;

/** The number written by `length` ASCII digits at `at`, or -1 when any of them is not a digit. */
function digits(s: string, at: number, length: number): number {
  let value = 0;
  for (let n = at; n < at + length; n++) {
    const code = s.charCodeAt(n); // NaN past the end: not a digit
    if (!isDigit(code)) return -1;
    value = value * 10 + (code - ZERO);
  }
  return value;
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
