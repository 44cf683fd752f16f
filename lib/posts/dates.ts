import { DateTime, FixedOffsetZone } from 'luxon';

// A date, optionally with a time, optionally with a UTC offset. Covers ISO 8601 ("2021-12-08T10:21:26+08:00")
// and the forms Jekyll sites write ("2021-12-08 10:21:26 +0800", "2021-12-08").
const DATE_PATTERN =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

interface DateParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  offset?: string;
  hasTime: boolean;
}

function splitDate(value: string): DateParts | undefined {
  const m = DATE_PATTERN.exec(value.trim());
  if (!m) return undefined;
  const num = (s: string | undefined) => (s === undefined ? 0 : Number(s));
  return {
    year: num(m[1]),
    month: num(m[2]),
    day: num(m[3]),
    hour: num(m[4]),
    minute: num(m[5]),
    second: num(m[6]),
    millisecond: m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0,
    offset: m[8],
    hasTime: m[4] !== undefined,
  };
}

function zoneOf(offset: string) {
  if (offset.toUpperCase() === 'Z') return FixedOffsetZone.utcInstance;
  const digits = offset.replace(':', '');
  const minutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5) || '0');
  return FixedOffsetZone.instance(digits.startsWith('-') ? -minutes : minutes);
}

function toDate(parts: DateParts, zone: string | FixedOffsetZone): Date | string {
  const { offset: _offset, hasTime: _hasTime, ...fields } = parts;
  const dt = DateTime.fromObject(fields, { zone });
  if (!dt.isValid) return `is not a real date (${dt.invalidExplanation ?? dt.invalidReason})`;
  return dt.toJSDate();
}

/** API dates: ISO 8601 with an explicit offset, so that the instant is never guessed. */
export function parseIsoDate(value: string): Date | string {
  const parts = splitDate(value);
  if (!parts || !parts.hasTime) return `must be an ISO 8601 date-time such as 2021-12-08T10:21:26+08:00, got '${value}'`;
  if (!parts.offset) return `must include a UTC offset (Z or +hh:mm), got '${value}'`;
  return toDate(parts, zoneOf(parts.offset));
}

/** Jekyll dates: an offset when written, otherwise the site's time zone, as Jekyll's `timezone` setting does. */
export function parseJekyllDate(value: string, timeZone: string): Date | string {
  const parts = splitDate(value);
  if (!parts) return `'${value}' is not a valid date; Jekyll expects YYYY-MM-DD [HH:MM[:SS]] [+hhmm]`;
  return toDate(parts, parts.offset ? zoneOf(parts.offset) : timeZone);
}
