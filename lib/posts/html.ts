import MarkdownIt from 'markdown-it';
import parseSrcset from 'parse-srcset';
import sanitizeHtml from 'sanitize-html';
import { hasVisible, stripXmlForbidden } from '../text.js';

// CommonMark plus raw HTML passthrough: Jekyll posts mix Markdown and HTML, and the sanitizer runs after.
const markdown = new MarkdownIt({ html: true, linkify: false, typographer: false });

export function renderMarkdown(source: string): string {
  return markdown.render(source);
}

function absolutize(url: string, base: string): string {
  try {
    return new URL(url, base).toString();
  } catch {
    return url;
  }
}

/**
 * A srcset with each candidate's URL made absolute, parsed as sanitize-html parses it (the HTML standard's rules);
 * a candidate that does not parse is left out, as the sanitizer would leave it out.
 */
function absolutizeSrcset(srcset: string, base: string): string {
  return parseSrcset(srcset)
    .map(({ url, w, h, d }) => [absolutize(url, base), w && `${w}w`, h && `${h}h`, d && `${d}x`].filter(Boolean).join(' '))
    .join(', ');
}

/** The attributes that hold URLs, by tag: each made absolute (a srcset candidate by candidate). */
const URL_ATTRIBUTES: Record<string, string[]> = { a: ['href'], img: ['src', 'srcset'], source: ['src', 'srcset'], video: ['src', 'poster'], audio: ['src'] };

/**
 * What readers display, and nothing that runs: no script, style, iframe or form, no event handler,
 * no javascript: URL. Relative and protocol-relative URLs are made absolute against `baseUrl`,
 * since a feed reader has no page to resolve them against.
 */
export function sanitizeContent(html: string, baseUrl: string): string {
  const clean = sanitizeHtml(stripXmlForbidden(html), {
    // No style attribute is kept, so none is parsed (the bundles leave the CSS parser out: lib/bundling/no-postcss.cjs).
    parseStyleAttributes: false,
    allowedTags: [
      ...sanitizeHtml.defaults.allowedTags,
      'img', 'figure', 'figcaption', 'picture', 'source', 'video', 'audio', 'del', 'ins', 'sup', 'sub', 'span', 'center',
    ],
    allowedAttributes: {
      a: ['href', 'title', 'hreflang'],
      img: ['src', 'srcset', 'alt', 'title', 'width', 'height'],
      source: ['src', 'srcset', 'type', 'media'],
      video: ['src', 'controls', 'poster', 'width', 'height'],
      audio: ['src', 'controls'],
      td: ['colspan', 'rowspan', 'align'],
      th: ['colspan', 'rowspan', 'align', 'scope'],
      ol: ['start'],
      '*': ['lang', 'dir'],
    },
    allowedSchemes: ['http', 'https', 'mailto'],
    // A video's poster is a URL too: checked like src (sanitize-html checks href, src and cite, and srcset by itself).
    allowedSchemesAppliedToAttributes: ['href', 'src', 'cite', 'poster'],
    allowProtocolRelative: true,
    transformTags: Object.fromEntries(
      Object.entries(URL_ATTRIBUTES).map(([tag, attrs]) => [
        tag,
        (tagName: string, attribs: sanitizeHtml.Attributes) => {
          const absolute = { ...attribs };
          for (const attr of attrs) {
            const value = attribs[attr];
            if (value) absolute[attr] = attr === 'srcset' ? absolutizeSrcset(value, baseUrl) : absolutize(value, baseUrl);
          }
          return { tagName, attribs: absolute };
        },
      ]),
    ),
  });
  return clean.trim();
}

const MEDIA = /<(?:img|video|audio|picture|source)\b/i;

/** Whether sanitized HTML shows a reader anything: text that is not all invisible, or an image or other media. */
export function showsSomething(sanitized: string): boolean {
  return MEDIA.test(sanitized) || hasVisible(htmlToText(sanitized));
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: ' ' };

/** Plain text of an HTML fragment, whitespace folded. */
export function htmlToText(html: string): string {
  const text = sanitizeHtml(html, { parseStyleAttributes: false, allowedTags: [], allowedAttributes: {}, nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript'] });
  return text
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, e: string) => ENTITIES[e] ?? '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A summary of at most `max` characters, cut at a word boundary where there is one. */
export function summarize(text: string, max = 200): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  const cut = chars.slice(0, max - 1).join('');
  const space = cut.lastIndexOf(' ');
  return `${space > max * 0.6 ? cut.slice(0, space) : cut}…`;
}

