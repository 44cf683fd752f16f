import { Function as CloudFrontFunction, FunctionCode, FunctionRuntime } from 'aws-cdk-lib/aws-cloudfront';
import type { Construct } from 'constructs';
import { FEED_FORMATS, FORMAT_NAMES } from '../../lib/feeds/feed-ref.js';
import { FEED_KEY } from '../../lib/hub/feed-topics.js';

/**
 * The code of the CloudFront function (cloudfront-js-2.0, viewer response) that gives feed documents the `Link`
 * headers documentHeaders() gives them locally (lib/feeds/document-headers.ts; WebSub 4,
 * https://www.w3.org/TR/websub/#discovery): the hub and the document's own URL. S3 cannot store such headers.
 *
 * Which keys are current feed documents (the topics; archive pages name no hub) is decided as feedFormatOfKey()
 * decides it, from its FEED_KEY and the formats' file names. The URI is decoded to the object's key and encoded
 * again segment by segment, as feedpub writes its URLs, so that `self` is the topic URL the hub accepts, however a
 * reader spelled the path. `origin` is the feeds' public origin when it is known at synth (a custom domain);
 * otherwise it is the distribution's own domain, from the event (a function cannot name the distribution it is
 * part of).
 */
export function discoveryFunctionCode(origin?: string): string {
  const files = FORMAT_NAMES.map((format) => FEED_FORMATS[format].file);
  return `var FEED_KEY = ${FEED_KEY.toString()};
var FILES = ${JSON.stringify(files)};
var ORIGIN = ${JSON.stringify(origin ?? '')};

function handler(event) {
  var response = event.response;
  var key;
  try {
    key = event.request.uri.slice(1).split('/').map(function (segment) { return decodeURIComponent(segment); }).join('/');
  } catch (malformed) {
    return response;
  }
  var match = FEED_KEY.exec(key);
  if (!match || FILES.indexOf(match[1]) < 0) return response;
  var origin = ORIGIN || 'https://' + event.context.distributionDomainName;
  var self = origin + '/' + key.split('/').map(function (segment) { return encodeURIComponent(segment); }).join('/');
  response.headers['link'] = { value: '<' + origin + '/hub>; rel="hub", <' + self + '>; rel="self"' };
  return response;
}
`;
}

/** The discovery function, for the viewer responses of the behavior that serves the bucket. */
export function discoveryHeadersFunction(scope: Construct, id: string, origin?: string) {
  return new CloudFrontFunction(scope, id, {
    comment: 'feedpub: Link rel=hub and rel=self on feed documents (WebSub discovery)',
    runtime: FunctionRuntime.JS_2_0,
    code: FunctionCode.fromInline(discoveryFunctionCode(origin)),
  });
}
