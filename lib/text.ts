// XML 1.0 Char production (https://www.w3.org/TR/xml/#charsets): no C0 controls but tab, LF and CR,
// no U+FFFE/U+FFFF, no unpaired surrogates. Such characters make a feed not well-formed.
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Removes the characters XML forbids, so any text can go into a feed. */
export function stripXmlForbidden(text: string): string {
  return text.replace(XML_FORBIDDEN, '');
}

export function hasXmlForbidden(text: string): boolean {
  XML_FORBIDDEN.lastIndex = 0;
  const found = XML_FORBIDDEN.test(text);
  XML_FORBIDDEN.lastIndex = 0;
  return found;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes plain text for use as HTML (Atom type="html", RSS description). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}
