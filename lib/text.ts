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

// What shows nothing on screen: white space, controls, format characters (zero-width spaces and joiners, bidi
// marks and controls, soft hyphen, BOM), the other default-ignorable code points (Hangul fillers, variation
// selectors, tag characters), surrogates, and the Braille blank, which fonts draw as an empty cell.
const INVISIBLE = /[\p{White_Space}\p{Cc}\p{Cf}\p{Cs}\p{Z}\p{Default_Ignorable_Code_Point}\u2800]/gu;

/** Whether the text has at least one character a reader can see. */
export function hasVisible(text: string): boolean {
  return text.replace(INVISIBLE, '') !== '';
}

// Unicode's explicit directional formatting characters (UAX #9 2.1-2.5: embeddings, overrides, isolates and their
// terminators). They reorder what follows them, so a name holding one displays as other text than it is (the
// "Trojan Source" trick, CVE-2021-42574). The implicit marks (LRM, RLM, ALM) stay allowed: they reorder nothing.
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/;

export function hasBidiControls(text: string): boolean {
  return BIDI_CONTROLS.test(text);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes plain text for use as HTML (Atom type="html", RSS description). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}
