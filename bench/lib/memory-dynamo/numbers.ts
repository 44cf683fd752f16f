import { validation } from './errors.js';

/**
 * DynamoDB numbers: decimals of up to 38 significant digits, kept exactly (as strings here) and returned in a
 * canonical form (no exponent, no leading or trailing zeros: "+1.50E1" comes back as "15").
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number
 */
const NUMERAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
/** Integers that a double holds exactly: the common case, compared and added without BigInt. */
const SMALL_INTEGER = /^-?(?:0|[1-9]\d{0,14})$/;

export function canonicalNumber(text: string): string {
  if (SMALL_INTEGER.test(text)) return text === '-0' ? '0' : text;
  const match = NUMERAL.exec(text);
  if (!match || (match[2] === '' && !match[3])) throw validation(`A value provided cannot be converted into a number`);
  const [, sign, whole = '', fraction = '', exponent = '0'] = match;
  let digits = whole + fraction;
  // Position of the decimal point within `digits`.
  let point = whole.length + Number(exponent);
  const lead = digits.length - digits.replace(/^0+/, '').length;
  digits = digits.slice(lead).replace(/0+$/, '');
  point -= lead;
  if (digits === '') return '0';
  if (digits.length > 38) throw validation('Attempting to store more than 38 significant digits in a Number');
  if (point - 1 > 125) throw validation('Number overflow. Attempting to store a number with magnitude larger than supported range');
  if (point - 1 < -130) throw validation('Number underflow. Attempting to store a number with magnitude smaller than supported range');
  const plain = point <= 0 ? `0.${'0'.repeat(-point)}${digits}` : point >= digits.length ? digits + '0'.repeat(point - digits.length) : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return sign === '-' ? `-${plain}` : plain;
}

function parts(n: string): { negative: boolean; whole: string; fraction: string } {
  const negative = n.startsWith('-');
  const abs = negative ? n.slice(1) : n;
  const dot = abs.indexOf('.');
  return { negative, whole: dot < 0 ? abs : abs.slice(0, dot), fraction: dot < 0 ? '' : abs.slice(dot + 1) };
}

/** Orders two canonical numbers. */
export function compareNumbers(a: string, b: string): number {
  if (a === b) return 0;
  if (SMALL_INTEGER.test(a) && SMALL_INTEGER.test(b)) return Number(a) - Number(b);
  const x = parts(a);
  const y = parts(b);
  if (x.negative !== y.negative) return x.negative ? -1 : 1;
  // Canonical forms have no leading zeros (but "0") and no trailing zeros: lengths, then digits, order them.
  let magnitude = x.whole.length - y.whole.length;
  if (magnitude === 0) magnitude = x.whole < y.whole ? -1 : x.whole > y.whole ? 1 : x.fraction < y.fraction ? -1 : x.fraction > y.fraction ? 1 : 0;
  return x.negative ? -magnitude : magnitude;
}

/** a + b (or a - b), exactly. */
export function addNumbers(a: string, b: string, subtract = false): string {
  if (SMALL_INTEGER.test(a) && SMALL_INTEGER.test(b)) {
    const sum = subtract ? Number(a) - Number(b) : Number(a) + Number(b);
    if (Number.isSafeInteger(sum)) return canonicalNumber(String(sum));
  }
  const x = parts(a);
  const y = parts(b);
  const scale = Math.max(x.fraction.length, y.fraction.length);
  const scaled = (p: typeof x) => BigInt(p.whole + p.fraction.padEnd(scale, '0')) * (p.negative ? -1n : 1n);
  const sum = scaled(x) + (subtract ? -scaled(y) : scaled(y));
  const digits = (sum < 0n ? -sum : sum).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  return canonicalNumber(sum < 0n ? `-${text}` : text);
}

/**
 * Bytes a number takes in an item: its significant digits in pairs aligned on the decimal point, plus one, plus
 * one more when negative (what DynamoDB Local reports in the SizeBytes of stream records; DynamoDB documents
 * "about one byte per two significant digits, plus one").
 */
export function numberSize(n: string): number {
  const { negative, whole, fraction } = parts(n);
  const aligned = (whole.length % 2 ? `0${whole}` : whole) + (fraction.length % 2 ? `${fraction}0` : fraction);
  let start = 0;
  let end = aligned.length;
  while (start < end && aligned.startsWith('00', start)) start += 2;
  while (end > start && aligned.startsWith('00', end - 2)) end -= 2;
  return 1 + (end - start) / 2 + (negative ? 1 : 0);
}
