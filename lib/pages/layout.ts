import { createHash } from 'node:crypto';
import { escapeHtml } from '../text.js';

export interface AlternateLink {
  type: string;
  title: string;
  href: string;
}

// Readable on a phone and without JavaScript; system fonts that carry CJK glyphs on every platform. Long URLs and
// names wrap anywhere, so nothing is wider than the screen.
const STYLE = `
:root{color-scheme:light dark;--muted:#667}
body{margin:0 auto;max-width:46rem;padding:1rem;font:1rem/1.7 system-ui,-apple-system,"PingFang SC","Hiragino Sans GB","Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;overflow-wrap:anywhere}
h1{font-size:1.5rem;line-height:1.3}h2{font-size:1.15rem;margin-top:2rem}
a{color:#0b62c4}img,video{max-width:100%;height:auto}
.meta,.about,time,.crumbs{color:var(--muted);font-size:.9rem}time{white-space:nowrap}
ul.feeds,ol.posts{list-style:none;padding:0}ul.feeds li,ol.posts li{padding:.4rem 0;border-bottom:1px solid #8883}
ul.feeds a,ol.posts a{margin-right:.5rem}
nav.groups{display:flex;flex-wrap:wrap;gap:.3rem}nav.groups a,nav.groups b{display:inline-block;min-width:2.6rem;padding:.3rem .5rem;border:1px solid #8885;border-radius:.3rem;text-align:center;text-decoration:none}
dl.subscribe dt{font-weight:600;margin-top:.6rem}dl.subscribe dd{margin:0}dl.subscribe code{font-size:.9rem}
`.trim();

/**
 * The Content-Security-Policy source that allows the one style element of every page (CSP 3, hash-source): a
 * policy can allow it with `style-src 'sha256-…'` rather than 'unsafe-inline'. No page has a script.
 */
export const STYLE_CSP_SOURCE = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

/** A complete, self-contained HTML page: no script, no external resource of its own, one inline style sheet. */
export function page(options: { lang: string; title: string; alternates: AlternateLink[]; canonical?: string; body: string }): string {
  const links = options.alternates
    .map((a) => `<link rel="alternate" type="${escapeHtml(a.type)}" title="${escapeHtml(a.title)}" href="${escapeHtml(a.href)}">\n`)
    .join('');
  return `<!doctype html>
<html lang="${escapeHtml(options.lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
${options.canonical ? `<link rel="canonical" href="${escapeHtml(options.canonical)}">\n` : ''}${links}<style>${STYLE}</style>
</head>
<body>
${options.body}
</body>
</html>
`;
}

const DAY_MS = 86_400_000;
const offsetFormats = new Map<string, Intl.DateTimeFormat>();
const dayOffsets = new Map<string, number | undefined>();

/** The zone's offset from UTC at an instant, in minutes ("GMT+5:30" → 330), as the Intl time zone data says. */
function exactOffset(zone: string, ms: number): number {
  let format = offsetFormats.get(zone);
  if (!format) offsetFormats.set(zone, (format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'shortOffset' })));
  const name = format.formatToParts(ms).find((part) => part.type === 'timeZoneName')?.value ?? 'GMT';
  const [, sign = '+', hours = '0', minutes = '0'] = /^GMT(?:([+-])(\d+)(?::(\d+))?)?$/.exec(name) ?? [];
  return (sign === '-' ? -1 : 1) * (Number(hours) * 60 + Number(minutes));
}

/**
 * The offset at an instant, looked up once per zone and UTC day (a directory lists thousands of dates, and Intl
 * takes tens of microseconds a call): a day whose start and end have the same offset has it throughout, since
 * zones change offset at most twice a year.
 */
function offsetAt(zone: string, ms: number): number {
  const day = Math.floor(ms / DAY_MS);
  const key = `${zone} ${day}`;
  if (!dayOffsets.has(key)) {
    const start = exactOffset(zone, day * DAY_MS);
    dayOffsets.set(key, start === exactOffset(zone, (day + 1) * DAY_MS - 1) ? start : undefined);
    if (dayOffsets.size > 10_000) dayOffsets.delete(dayOffsets.keys().next().value!);
  }
  return dayOffsets.get(key) ?? exactOffset(zone, ms);
}

/**
 * A post's or a feed's date as a person reads it: in the site's zone, with the offset said ("2021-12-08 10:46
 * UTC+8"), and the exact instant in `datetime`. It is the date the feed documents carry, never the clock's.
 */
export function timeElement(iso: string, zone: string): string {
  const ms = Date.parse(iso);
  const offset = offsetAt(zone, ms);
  const local = new Date(ms + offset * 60_000).toISOString();
  const abs = Math.abs(offset);
  const said = offset === 0 ? 'UTC' : `UTC${offset < 0 ? '-' : '+'}${Math.floor(abs / 60)}${abs % 60 ? `:${String(abs % 60).padStart(2, '0')}` : ''}`;
  return `<time datetime="${escapeHtml(iso)}">${local.slice(0, 10)} ${local.slice(11, 16)} ${said}</time>`;
}

export { escapeHtml };
