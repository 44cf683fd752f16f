// The bundles' stand-in for postcss (cdk/feedpub-function.ts aliases it here). sanitize-html loads postcss only to
// parse style attributes, and feedpub keeps none: lib/posts/html.ts allows no style attribute and turns the parsing
// off. Leaving postcss and its source-map library out takes about 90 KB off each bundle that sanitizes. Should a
// style attribute ever reach the parse, sanitize-html catches the error and drops the attribute.
'use strict';
exports.parse = () => {
  throw new Error('feedpub bundles do not parse CSS: style attributes are not kept');
};
