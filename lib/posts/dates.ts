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

// The widest UTC offsets in use are -12:00 and +14:00; RFC 3339's grammar allows minutes 00-59 only.
const MAX_OFFSET_MINUTES = 14 * 60;

/** The zone of a written offset, or why it is not a real one (`+99:99` would move the date by four days). */
function zoneOf(offset: string): FixedOffsetZone | string {
  if (offset.toUpperCase() === 'Z') return FixedOffsetZone.utcInstance;
  const digits = offset.replace(':', '');
  const [hours, minutes] = [Number(digits.slice(1, 3)), Number(digits.slice(3, 5) || '0')];
  if (minutes > 59 || hours * 60 + minutes > MAX_OFFSET_MINUTES) return `has a UTC offset out of range (${offset}): offsets run from -14:00 to +14:00`;
  return FixedOffsetZone.instance((digits.startsWith('-') ? -1 : 1) * (hours * 60 + minutes));
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
  const zone = zoneOf(parts.offset);
  return zone instanceof FixedOffsetZone ? toDate(parts, zone) : zone;
}

/** Jekyll dates: an offset when written, otherwise the site's time zone, as Jekyll's `timezone` setting does. */
export function parseJekyllDate(value: string, timeZone: string): Date | string {
  const parts = splitDate(value);
  if (!parts) return `'${value}' is not a valid date; Jekyll expects YYYY-MM-DD [HH:MM[:SS]] [+hhmm]`;
  const zone = parts.offset ? zoneOf(parts.offset) : timeZone;
  return zone instanceof FixedOffsetZone || !parts.offset ? toDate(parts, zone) : `'${value}' ${zone}`;
}
