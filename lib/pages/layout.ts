import { escapeHtml } from '../text.js';

export interface AlternateLink {
  type: string;
  title: string;
  href: string;
}

// Readable on a phone and without JavaScript; system fonts that carry CJK glyphs on every platform.
const STYLE = `
:root{color-scheme:light dark;--muted:#667}
body{margin:0 auto;max-width:46rem;padding:1rem;font:1rem/1.7 system-ui,-apple-system,"PingFang SC","Hiragino Sans GB","Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;overflow-wrap:anywhere}
h1{font-size:1.5rem;line-height:1.3}h2{font-size:1.15rem;margin-top:2rem}
a{color:#0b62c4}img,video{max-width:100%;height:auto}
.meta,.about,time{color:var(--muted);font-size:.9rem}
ul.feeds{list-style:none;padding:0}ul.feeds li{padding:.5rem 0;border-bottom:1px solid #8883}
ul.feeds .name{font-weight:600;margin-right:.5rem}
`;

/** A complete, self-contained HTML page: no script, one inline style sheet. */
export function page(options: { lang: string; title: string; alternates: AlternateLink[]; canonical?: string; body: string }): string {
  const links = options.alternates
    .map((a) => `<link rel="alternate" type="${escapeHtml(a.type)}" title="${escapeHtml(a.title)}" href="${escapeHtml(a.href)}">`)
    .join('\n');
  return `<!doctype html>
<html lang="${escapeHtml(options.lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
${options.canonical ? `<link rel="canonical" href="${escapeHtml(options.canonical)}">\n` : ''}${links}
<style>${STYLE.trim()}</style>
</head>
<body>
${options.body}
</body>
</html>
`;
}

export { escapeHtml };
