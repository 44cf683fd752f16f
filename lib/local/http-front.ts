import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Agent, createServer, request, type ClientRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import type { ApiHandler } from '../api/lambda-handler.js';
import { logger } from '../log.js';

// API Gateway's own payload limit; the app's smaller limit answers 413 first.
const GATEWAY_MAX_BODY = 10 * 1024 * 1024;

// Methods a handler cannot be given (the Fetch API refuses to build their requests). In AWS they never reach one:
// API Gateway routes only the API's methods and answers anything else itself, as here.
const UNROUTABLE_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** An answer of API Gateway's own, before any function runs: its body is `{"message": …}`. */
function gatewayAnswer(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ message }));
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > GATEWAY_MAX_BODY) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** An HTTP API (payload format 2.0) event, as API Gateway builds it from a request. */
export function toGatewayEvent(req: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://local');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && name !== 'cookie') headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const text = body.toString('utf8');
  // API Gateway passes text bodies as they are and anything else base64-encoded.
  const isText = Buffer.from(text, 'utf8').equals(body);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(req.headers.cookie ? { cookies: req.headers.cookie.split(/;\s*/) } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: req.headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: req.headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: isText ? text : body.toString('base64'), isBase64Encoded: !isText } : { isBase64Encoded: false }),
  };
}

function lambdaContext(requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'feedpub-api-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:feedpub-api-local',
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: 'local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function writeGatewayResult(res: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result === 'string') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(result);
    return;
  }
  const headers: Record<string, string | string[]> = { ...(result.headers as Record<string, string>) };
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body = result.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : undefined;
  res.writeHead(result.statusCode ?? 200, headers).end(body);
}

/** Where the front reads objects: the local S3 server's bucket, as CloudFront reads the bucket in AWS. */
export interface Origin {
  endpoint: string;
  bucket: string;
  /** Extra headers of an object's responses, by key (CloudFront adds them with a function in AWS). */
  headersOf?: (key: string) => Record<string, string>;
  /** How long a GET waits for the S3 server's next bytes before it is cut (CloudFront's origin response timeout). */
  responseTimeoutMs?: number;
}

/**
 * CloudFront's default origin response timeout: how long it waits for the origin's answer, and then for each next
 * packet of it, before it answers 504 Gateway Timeout (or cuts the body under way).
 */
const ORIGIN_RESPONSE_TIMEOUT_MS = 30_000;

/**
 * A read the front took longer than its threshold over (FEEDPUB_LOCAL_SLOW_MS), from the request's arrival to the
 * last byte sent, and where that time went: waiting for a connection to the S3 server (the agent's queue and, for
 * a new connection, its connect), waiting for the S3 server's answer, and sending the body on.
 */
export interface SlowRead {
  /** When it arrived (ISO 8601). */
  at: string;
  key: string;
  /** null when the reader went away before any answer was sent. */
  status: number | null;
  ms: number;
  /** false when the reader went away before the answer was sent whole. */
  finished: boolean;
  /**
   * ms from arrival until the GET to the S3 server had a connected socket (the agent's queue, and connecting a new
   * connection: `connectMs` of it, 0 for a kept-alive one); the whole time when it never had one.
   */
  socketMs: number;
  connectMs: number;
  /** ms from the GET to the S3 server sent until its answer's headers came (or, without an answer, until the end). */
  upstreamMs: number;
  /** ms from those headers until the last byte to the reader; 0 without an answer. */
  sendMs: number;
  /** GETs to the S3 server (2: the first met a connection the server had closed). */
  upstreamGets: number;
  /** Other GETs to the S3 server waiting for a connection when this one arrived. */
  queuedBefore: number;
}

export interface FrontOptions {
  /** Reads slower than this many ms are reported to onSlowRead. */
  slowMs?: number;
  onSlowRead?: (read: SlowRead) => void;
}

/** The S3 server did not answer a GET in time. */
class OriginTimeout extends Error {
  override name = 'OriginTimeout';
}

// Idle connections are dropped before the local S3 server's own 5 s keep-alive timeout would close them.
const originAgent = new Agent({ keepAlive: true, maxSockets: 64, timeout: 4_000 });

// What CloudFront passes on from S3.
const OBJECT_HEADERS = ['content-type', 'content-length', 'cache-control', 'etag', 'last-modified'];

/** Headers of the last 200 of each object (bounded): what a 304 repeats (RFC 9110 15.4.5). */
const lastSeen = new Map<string, Record<string, string>>();
function remember(key: string, headers: Record<string, string>): void {
  const { 'content-type': _type, 'content-length': _length, ...kept } = headers;
  lastSeen.delete(key);
  lastSeen.set(key, kept);
  if (lastSeen.size > 10_000) lastSeen.delete(lastSeen.keys().next().value!);
}

/** The entity tags of an If-None-Match header, without weak prefixes (RFC 9110 13.1.2 compares them weakly). */
function entityTags(header: string | undefined): string[] {
  return (header ?? '').split(',').map((tag) => tag.trim().replace(/^W\//, '')).filter(Boolean);
}

/**
 * Serves `feeds/...` and `posts/...` objects (and the home page) from the bucket with the headers S3 gives
 * CloudFront, and answers conditional GETs as RFC 9110 asks (section 13.1): If-None-Match compared weakly,
 * If-Modified-Since when there is no If-None-Match, a 304 carrying the object's ETag, Last-Modified and Cache-Control. A plain GET to the local S3
 * server (path style), not an SDK call: this path carries every reader's poll and must cost the publisher's process
 * little. The common case, one tag, is asked of the S3 server itself, which then sends no body.
 */
async function serveObject(req: IncomingMessage, res: ServerResponse, origin: Origin, key: string, options: FrontOptions): Promise<void> {
  const timing = options.onSlowRead ? readTiming(res, key, options.slowMs ?? 1000, options.onSlowRead) : undefined;
  const tags = entityTags(req.headers['if-none-match']);
  const since = tags.length === 0 ? req.headers['if-modified-since'] : undefined;
  const path = `/${origin.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  const asked = tags.length === 1 && tags[0] !== '*' ? { 'if-none-match': tags[0]! } : {};
  const timeoutMs = origin.responseTimeoutMs ?? ORIGIN_RESPONSE_TIMEOUT_MS;
  // A GET the S3 server leaves silent that long (before its headers or within its body) is cut: the reader gets a
  // 504, or, with the body under way, a cut connection, as from CloudFront. The socket's own idle timer, which
  // every GET re-arms at no cost, not a timer per GET: this path carries every reader's poll.
  const get = () =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const outgoing = request(`${origin.endpoint}${path}`, { agent: originAgent, headers: asked }, (response) => {
        timing?.answered();
        resolve(response);
      });
      timing?.sent(outgoing);
      outgoing.setTimeout(timeoutMs, () => outgoing.destroy(new OriginTimeout(`The S3 server sent nothing for ${timeoutMs} ms of GET ${key}`)));
      outgoing.on('error', reject).end();
    });
  // A kept-alive connection the server has just closed fails the first write (ECONNRESET, "socket hang up");
  // the GET is idempotent, so it is sent again once, on a fresh connection.
  const upstream = await get().catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return get();
    throw error;
  });
  const status = upstream.statusCode ?? 502;
  // Any other refusal of a well-formed key (400, 403) still means there is no such object to serve.
  if (status >= 400 && status < 500) {
    upstream.resume();
    if (status !== 404) logger.warn('S3 refused a GET', { key, status });
    notFound(res, key);
    return;
  }
  if (status !== 200 && status !== 304) {
    upstream.resume();
    throw new Error(`S3 answered ${status} for ${key}`);
  }
  const headers: Record<string, string> = {};
  for (const name of OBJECT_HEADERS) {
    const value = upstream.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  // S3 matched the one tag asked: its 304 carries no headers, those of the last 200 of the same object do.
  if (status === 304) Object.assign(headers, lastSeen.get(key)?.etag === asked['if-none-match'] ? lastSeen.get(key) : { etag: asked['if-none-match'] });
  else remember(key, headers);
  const etag = headers.etag?.replace(/^W\//, '');
  const notModified =
    status === 304 ||
    (tags.length > 0 ? tags.includes('*') || (etag !== undefined && tags.includes(etag)) : since !== undefined && headers['last-modified'] !== undefined && Date.parse(headers['last-modified']) <= Date.parse(since));
  Object.assign(headers, origin.headersOf?.(key));
  if (notModified) {
    upstream.resume();
    const { 'content-type': _type, 'content-length': _length, ...kept } = headers;
    res.writeHead(304, kept).end();
    return;
  }
  res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    upstream.resume();
    res.end();
  } else {
    // A body cut by the timeout (or the S3 server) cuts the reader's response too, rather than leaving it open.
    pipeline(upstream, res).catch(() => undefined);
  }
}

// S3's longest key, in UTF-8 bytes.
const MAX_KEY_BYTES = 1024;
// What no key feedpub writes holds: controls (C0, DEL, C1), U+FFFE/U+FFFF. Keys are built from post ids and folded names.
const NOT_IN_KEYS = /[\u0000-\u001F\u007F-\u009F\uFFFE\uFFFF]/;

/**
 * The bucket key a GET path names: undefined when the path is not an object's (the API answers it), 'none' when it
 * is under feeds/ or posts/ but names no key feedpub could have written: not percent-encoded UTF-8, longer than S3
 * allows, with a control character, or with an empty, "." or ".." segment once decoded (a %2F decodes to a "/", as
 * CloudFront passes it to S3, and the segments are checked after that). Those are answered 404 without asking S3.
 */
function objectKey(pathname: string): string | 'none' | undefined {
  // (The home page, the site feed's page, is answered at / as CloudFront's default root object: see the caller.)
  if (!/^\/(feeds|posts)\//.test(pathname)) return undefined;
  if (pathname.startsWith('/posts/') && !pathname.endsWith('.html')) return undefined;
  const path = pathname === '/feeds/' ? '/feeds/index.html' : pathname;
  let key: string;
  try {
    key = path.slice(1).split('/').map(decodeURIComponent).join('/');
  } catch {
    return 'none';
  }
  const servable =
    Buffer.byteLength(key) <= MAX_KEY_BYTES && !NOT_IN_KEYS.test(key) && key.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
  return servable ? key : 'none';
}

function notFound(res: ServerResponse, key?: string): void {
  // The home page is the site feed's page: it appears with the first post.
  const text = key === 'index.html' ? 'Nothing is published yet: the home page appears with the first post.\n' : 'Not found\n';
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }).end(text);
}

/** Times one read (arrival to last byte), and reports it when it took `slowMs` or more. */
function readTiming(res: ServerResponse, key: string, slowMs: number, report: (read: SlowRead) => void) {
  const arrived = performance.now();
  const queuedBefore = Object.values(originAgent.requests).reduce((sum, queue) => sum + (queue?.length ?? 0), 0);
  // Of the latest GET to the S3 server (a second one replaces a first that met a closed connection): when it had a
  // connected socket, so was sent; how long connecting took; when its answer's headers came. Unset: not (yet) so.
  let upstreamGets = 0;
  let readyAt: number | undefined;
  let connectMs = 0;
  let answeredAt: number | undefined;
  res.once('close', () => {
    const closedAt = performance.now();
    const ms = closedAt - arrived;
    if (ms < slowMs) return;
    const round = (n: number) => Math.round(n);
    report({
      at: new Date(performance.timeOrigin + arrived).toISOString(),
      key,
      status: res.headersSent ? res.statusCode : null,
      ms: round(ms),
      finished: res.writableFinished,
      socketMs: round((readyAt ?? closedAt) - arrived),
      connectMs: round(connectMs),
      upstreamMs: readyAt === undefined ? 0 : round((answeredAt ?? closedAt) - readyAt),
      sendMs: answeredAt === undefined ? 0 : round(closedAt - answeredAt),
      upstreamGets,
      queuedBefore,
    });
  });
  return {
    sent(outgoing: ClientRequest) {
      const attempt = ++upstreamGets;
      readyAt = answeredAt = undefined;
      connectMs = 0;
      outgoing.once('socket', (socket) => {
        if (attempt !== upstreamGets) return;
        if (!socket.connecting) {
          readyAt = performance.now();
          return;
        }
        const assignedAt = performance.now();
        socket.once('connect', () => {
          if (attempt !== upstreamGets) return;
          readyAt = performance.now();
          connectMs = readyAt - assignedAt;
        });
      });
    },
    answered() {
      answeredAt = performance.now();
    },
  };
}

/**
 * One local base URL, as AWS has two: the API (API Gateway -> the API Lambda handler, called with a real
 * payload 2.0 event) at the root, and the bucket's objects (CloudFront -> S3): the home page at /, the rest under
 * /feeds/ and /posts/.
 */
export function createHttpFront(api: ApiHandler, origin: Origin, options: FrontOptions = {}): Server {
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://local');
      const read = req.method === 'GET' || req.method === 'HEAD';
      // The directory's pages link relative to feeds/: its address ends with a slash.
      if (read && url.pathname === '/feeds') return void res.writeHead(301, { location: '/feeds/' }).end();
      // The home page is asked for by its own path only, not by one that resolves to it ("/posts/..").
      const asked = (req.url ?? '/').split('?')[0];
      const home = asked === '/' || asked === '/index.html';
      const key = read ? (home ? 'index.html' : objectKey(url.pathname)) : undefined;
      if (key === 'none') return notFound(res);
      if (key !== undefined) return serveObject(req, res, origin, key, options);
      if (UNROUTABLE_METHODS.has(req.method ?? '')) return gatewayAnswer(res, 404, 'Not Found');
      const body = await readBody(req);
      if (body === 'too-large') return gatewayAnswer(res, 413, 'Request Entity Too Large');
      const event = toGatewayEvent(req, body);
      writeGatewayResult(res, await api(event, lambdaContext(event.requestContext.requestId)));
    })().catch((error: unknown) => {
      if (error instanceof OriginTimeout && !res.headersSent) {
        logger.warn('local http front: the S3 server did not answer in time', { error });
        res.writeHead(504, { 'content-type': 'text/plain; charset=utf-8' }).end('The origin did not answer in time.\n');
        return;
      }
      logger.error('local http front failed', { error: error as Error });
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Internal server error' }));
    });
  });
  // Idle connections kept a minute, as API Gateway and CloudFront keep them, not Node's 5 s: a client whose request
  // crosses the server's close of an idle connection gets a reset, which a busy process (the stack and its
  // publishers in one event loop, as in the benchmark) made likely every few seconds.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}
