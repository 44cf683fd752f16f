import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { SiteConfig } from '../config.js';
import { HoldNotFound, OutOfScope, PayloadTooLarge, PostNotFound, PublicError, RouteNotFound, Unauthorized, UnscopedKeyRequired, UnsupportedMediaType, ValidationError } from '../errors.js';
import { isScoped, listOutsideScope, outsideScope, type KeyScope } from '../keys/scope.js';
import { logger } from '../log.js';
import { nameSchema, postIdSchema, toFieldIssues } from '../posts/post-input.js';
import { postEtag, type PostService, type Preconditions, type WriteRequest } from '../posts/post-service.js';
import { isHolding, type DynamoHoldRepository } from '../store/dynamo-hold.js';
import { holdLane } from '../store/table.js';
import type { CommittedWrite, WriteOptions } from '../store/ports.js';
import type { FeedVisibility } from '../store/dynamo-visibility.js';
import type { Hub } from '../hub/build-hub.js';
import { LIMITS, type Post } from '../posts/post.js';
import * as z from 'zod/mini';
import '../zod-locale.js';
import { callerOf, type Caller } from './auth.js';
import { postJson } from './post-json.js';
import { errorJson, readBatch } from './read-batch.js';
import { parseJson, readDraft } from './read-draft.js';
import { parseSiteSettings } from '../site/settings.js';
import type { SiteSettingsService } from '../site/settings-service.js';

export interface ApiDeps {
  posts: PostService;
  /** The deployment's configuration (the feeds' URL for answers). */
  site: SiteConfig;
  /** The site's stored settings (GET and PUT /site), and the site as requests read posts with it. */
  settings: Pick<SiteSettingsService, 'current' | 'get' | 'replace'>;
  holds: Pick<DynamoHoldRepository, 'create' | 'get' | 'renew' | 'release' | 'marked'>;
  /** When committed writes show in their feeds (Prefer: wait). */
  visibility: Pick<FeedVisibility, 'waitFor'>;
  /** The WebSub hub's subscription endpoint (POST /hub), where the deployment has one. */
  hub?: Pick<Hub, 'accept'>;
}

const holdSchema = z.strictObject({ seconds: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(900)), 120) });
const holdIdSchema = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be a hold id this API returned'));

const HOLD_HEADER = 'feedpub-hold';

// In AWS, API Gateway puts the Authorize function's context in the event; locally the front does (lib/local).
type Env = {
  Variables: { requestId: string; caller: Caller; committed?: CommittedWrite[] };
  Bindings: { requestContext?: { requestId?: string; authorizer?: { lambda?: Record<string, unknown> | null } } };
};

/** The longest a write waits for its feeds when asked to (Prefer: wait), well within the API's 30 s timeout. */
const MAX_WAIT_SECONDS = 10;

/**
 * RFC 7240's `wait` preference (`Prefer: wait=5`): how long the client will wait for the answer. A write then
 * answers once its feeds show it, or when that time is up. `wait` alone, or a larger value, means 10 s; a value
 * that is not a number is ignored, as the RFC asks of preferences a server does not understand.
 */
export function preferredWait(header: string | undefined): number | undefined {
  for (const preference of (header ?? '').split(',')) {
    const [name, value] = preference.split(';')[0]!.split('=').map((part) => part.trim());
    if (name?.toLowerCase() !== 'wait') continue;
    const seconds = value === undefined ? MAX_WAIT_SECONDS : Number(value.replace(/^"(.*)"$/, '$1'));
    if (value !== undefined && (value === '' || !Number.isFinite(seconds) || seconds < 0)) continue;
    return Math.min(seconds, MAX_WAIT_SECONDS);
  }
  return undefined;
}

const listQuerySchema = z.strictObject({
  // Only a name a post may have can name a feed.
  category: z.optional(nameSchema),
  tag: z.optional(nameSchema),
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 20),
  cursor: z.optional(z.string().check(z.minLength(1))),
  // Published posts (newest first), or the schedule (soonest first): what readers will see, and when.
  status: z._default(z.enum(['published', 'scheduled']), 'published'),
});

const mediaType = (header: string | undefined) => (header ?? '').split(';')[0]!.trim().toLowerCase();

function parseQuery(c: Context<Env>) {
  const result = listQuerySchema.safeParse(c.req.query(), { reportInput: true });
  if (!result.success) throw new ValidationError(toFieldIssues(result.error));
  return result.data;
}

function pathId(c: Context<Env>): string {
  const id = c.req.param('id') ?? '';
  const result = postIdSchema.safeParse(id);
  if (!result.success) throw ValidationError.of('id', 'post_id', result.error.issues[0]!.message);
  return id;
}

/** A scoped key lists one feed of its scope, and in it only the posts it may write (lib/keys/scope.ts). */
function listScope(scope: KeyScope, query: { category?: string; tag?: string }): ((post: Post) => boolean) | undefined {
  if (!isScoped(scope)) return undefined;
  const issue = listOutsideScope(scope, query);
  if (issue) throw new OutOfScope('list these posts', issue);
  return (post) => outsideScope(scope, post) === undefined;
}

/** The publisher API: one web-standard app, served by API Gateway + Lambda in AWS and by the local runner. */
export function createApp({ posts, site, settings, holds, visibility, hub }: ApiDeps): Hono<Env> {
  const app = new Hono<Env>();
  const respond = (c: Context<Env>, post: Post, status: 200 | 201) => {
    c.header('ETag', postEtag(post));
    return c.json(postJson(post, site.feedsUrl), status);
  };
  const preconditions = (c: Context<Env>): Preconditions => {
    const [ifMatch, ifNoneMatch] = [c.req.header('if-match'), c.req.header('if-none-match')];
    return { ...(ifMatch !== undefined ? { ifMatch } : {}), ...(ifNoneMatch !== undefined ? { ifNoneMatch } : {}) };
  };
  /**
   * A write is checked against the caller's scope. One sent under an import's hold waits in the hold's lane; a hold
   * that no longer holds defers nothing.
   */
  const writeOptions = async (c: Context<Env>): Promise<WriteRequest> => {
    const { scope } = c.get('caller');
    const id = c.req.header(HOLD_HEADER);
    const committed = c.get('committed');
    const notify: WriteOptions & { siteUrl: string } = { siteUrl: (await settings.current()).url, ...(committed ? { onCommitted: (write) => committed.push(write) } : {}) };
    if (id === undefined) return { scope, ...notify };
    if (isScoped(scope)) throw new UnscopedKeyRequired('Writing under a regeneration hold (Feedpub-Hold)');
    if (!holdIdSchema.safeParse(id).success) throw ValidationError.of('Feedpub-Hold', 'hold_id', 'must be a hold id this API returned');
    const hold = await holds.get(id);
    if (!hold) throw new HoldNotFound(id);
    return isHolding(hold) ? { scope, ...notify, lane: holdLane(id) } : { scope, ...notify };
  };
  const holdJson = async (id: string) => {
    const hold = await holds.get(id);
    if (!hold) throw new HoldNotFound(id);
    const feedsLeft = hold.phase === 'published' ? 0 : (await holds.marked(id)).length;
    return { id, phase: hold.phase, until: new Date(hold.until).toISOString(), feedsLeft };
  };

  app.use(async (c, next) => {
    const requestId = c.env?.requestContext?.requestId ?? randomUUID();
    c.set('requestId', requestId);
    logger.appendKeys({ requestId });
    try {
      await next();
    } finally {
      c.header('X-Request-Id', requestId);
      logger.removeKeys(['requestId', 'postId', 'keyId']);
    }
  });

  app.get('/health', (c) => c.json({ status: 'ok' }));

  // WebSub subscriptions (https://www.w3.org/TR/websub/#subscriber-sends-subscription-request): anyone may ask;
  // the hub verifies intent with the callback before anything is delivered, so 202 promises nothing yet.
  if (hub) {
    app.post('/hub', async (c) => {
      await hub.accept(await c.req.text(), c.req.header('content-type'));
      return c.body(null, 202);
    });
  }

  // The key was checked before the request got here (the Authorize function in AWS, the local front locally): the
  // caller comes with the event. No caller, no entry; the key's short id goes into every log line, the key never.
  const requireKey = async (c: Context<Env>, next: () => Promise<void>) => {
    const caller = callerOf(c.env?.requestContext?.authorizer?.lambda);
    if (!caller) throw new Unauthorized();
    c.set('caller', caller);
    logger.appendKeys({ keyId: caller.keyId });
    await next();
  };
  // '/posts/*' also matches '/posts'.
  app.use('/posts/*', requireKey);
  app.use('/regeneration/*', requireKey);
  app.use('/regeneration/*', async (c, next) => {
    if (isScoped(c.get('caller').scope)) throw new UnscopedKeyRequired('Regeneration holds');
    await next();
  });
  app.use('/site', requireKey);
  app.use('/site', async (c, next) => {
    if (isScoped(c.get('caller').scope)) throw new UnscopedKeyRequired("The site's settings");
    await next();
  });
  // Prefer: wait: a write answers once every feed it touched shows it (Feedpub-Feeds: current), or when the wait
  // is over (pending); a scheduled post or a held write has nothing to show yet.
  app.use('/posts/*', async (c, next) => {
    const wait = c.req.method === 'GET' ? undefined : preferredWait(c.req.header('prefer'));
    if (wait === undefined) return next();
    const deadline = Date.now() + wait * 1000;
    const committed: CommittedWrite[] = [];
    c.set('committed', committed);
    await next();
    if (c.res.status >= 300) return;
    const shown = await visibility.waitFor(committed, deadline);
    c.res.headers.set('Preference-Applied', `wait=${wait}`);
    c.res.headers.set('Feedpub-Feeds', shown ? 'current' : 'pending');
  });
  const limit = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: () => {
        throw new PayloadTooLarge(maxSize);
      },
    });
  const limitBody = limit(LIMITS.bodyBytes);
  const limitBatchBody = limit(LIMITS.batchBodyBytes);

  app.post('/posts', limitBody, async (c) => {
    const draft = await readDraft(c, await settings.current());
    if (draft.id === undefined && draft.slug !== undefined && !postIdSchema.safeParse(draft.slug).success) {
      throw ValidationError.of('Slug', 'post_id', `the file name's slug '${draft.slug}' is not a post id: letters, digits, ".", "_" or "-"`);
    }
    const post = await posts.create({ ...draft, id: draft.id ?? draft.slug }, await writeOptions(c));
    logger.info('post created', { postId: post.id });
    c.header('Location', `/posts/${encodeURIComponent(post.id)}`);
    return respond(c, post, 201);
  });

  // Many posts in one request (bots' bursts, imports): each as PUT by id would store it, written together.
  app.post('/posts/batch', limitBatchBody, async (c) => {
    if (mediaType(c.req.header('content-type')) !== 'application/json') {
      throw new UnsupportedMediaType(c.req.header('content-type'), ['application/json']);
    }
    const items = readBatch(await c.req.text(), await settings.current());
    const valid = items.flatMap((item, index) => (item instanceof PublicError ? [] : [{ index, ...item }]));
    const outcomes = await posts.putMany(valid, await writeOptions(c));
    const results: unknown[] = items.map((item) => (item instanceof PublicError ? errorJson(item) : undefined));
    outcomes.forEach((outcome, i) => {
      const { index, id } = valid[i]!;
      results[index] = outcome instanceof PublicError
        ? { id, ...errorJson(outcome, `posts.${index}.`) }
        : { id, status: outcome.outcome === 'created' ? 201 : 200, outcome: outcome.outcome, etag: postEtag(outcome.post) };
    });
    const written = outcomes.filter((o) => !(o instanceof PublicError) && o.outcome !== 'unchanged').length;
    logger.info('batch stored', { posts: items.length, written, refused: results.filter((r) => (r as { error?: unknown }).error).length });
    return c.json({ results });
  });

  app.put('/posts/:id', limitBody, async (c) => {
    const id = pathId(c);
    const draft = await readDraft(c, await settings.current());
    const outcome = await posts.put(id, draft, preconditions(c), await writeOptions(c));
    logger.info(`post ${outcome.outcome}`, { postId: id });
    if (outcome.outcome === 'created') c.header('Location', `/posts/${encodeURIComponent(id)}`);
    c.header('Feedpub-Outcome', outcome.outcome);
    return respond(c, outcome.post, outcome.outcome === 'created' ? 201 : 200);
  });

  app.get('/posts/:id', async (c) => {
    const id = pathId(c);
    const post = await posts.get(id);
    if (!post) throw new PostNotFound(id);
    // A scoped key reads what it may write: another desk's post (an embargoed one too) is not its to see.
    const issue = outsideScope(c.get('caller').scope, post);
    if (issue) throw new OutOfScope(`read post '${id}'`, issue);
    return respond(c, post, 200);
  });

  app.delete('/posts/:id', async (c) => {
    const id = pathId(c);
    await posts.remove(id, preconditions(c), await writeOptions(c));
    logger.info('post deleted', { postId: id });
    return c.body(null, 204);
  });

  app.get('/posts', async (c) => {
    const query = parseQuery(c);
    const page = await posts.list(query, listScope(c.get('caller').scope, query));
    return c.json({ posts: page.posts.map((p) => postJson(p, site.feedsUrl)), ...(page.cursor ? { cursor: page.cursor } : {}) });
  });

  // The site's settings (title, URL, language, author, time zone) over the deployment's defaults; a change has
  // every feed rendered again (lib/regen/settings-fan-out.ts). `feedpub import` stores those of _config.yml.
  app.get('/site', async (c) => c.json(await settings.get()));
  app.put('/site', limitBody, async (c) => {
    if (mediaType(c.req.header('content-type')) !== 'application/json') throw new UnsupportedMediaType(c.req.header('content-type'), ['application/json']);
    const answer = await settings.replace(parseSiteSettings(parseJson(await c.req.text())));
    logger.info(answer.changed ? 'site settings changed' : 'site settings unchanged', { version: answer.version });
    return c.json(answer);
  });

  // An importer holds regeneration while it writes, so each feed is rendered once at the end (docs/DESIGN.md).
  const holdSeconds = async (c: Context<Env>) => {
    const text = await c.req.text();
    const parsed = holdSchema.safeParse(text ? parseJson(text) : {}, { reportInput: true });
    if (!parsed.success) throw new ValidationError(toFieldIssues(parsed.error));
    return parsed.data.seconds;
  };
  const holdId = (c: Context<Env>) => {
    const id = c.req.param('id') ?? '';
    if (!holdIdSchema.safeParse(id).success) throw ValidationError.of('id', 'hold_id', 'must be a hold id this API returned');
    return id;
  };

  app.post('/regeneration/holds', limitBody, async (c) => {
    const hold = await holds.create((await holdSeconds(c)) * 1000);
    c.header('Location', `/regeneration/holds/${hold.id}`);
    return c.json({ id: hold.id, phase: hold.phase, until: new Date(hold.until).toISOString(), feedsLeft: 0 }, 201);
  });

  app.put('/regeneration/holds/:id', limitBody, async (c) => {
    const id = holdId(c);
    const renewed = await holds.renew(id, (await holdSeconds(c)) * 1000);
    // Released or expired: its writes render as they come; the importer carries on without it.
    if (!renewed) return c.json(await holdJson(id), 409);
    return c.json(await holdJson(id));
  });

  app.get('/regeneration/holds/:id', async (c) => c.json(await holdJson(holdId(c))));

  app.delete('/regeneration/holds/:id', async (c) => {
    const id = holdId(c);
    if (!(await holds.release(id))) throw new HoldNotFound(id);
    return c.json(await holdJson(id), 202);
  });

  app.notFound((c) => {
    throw new RouteNotFound(c.req.method, c.req.path);
  });

  // The one place errors become responses: what the client can act on is said; anything else is a 500
  // that carries only the request id, with the details in the log.
  app.onError((error, c) => {
    const requestId = c.get('requestId') ?? randomUUID();
    c.header('X-Request-Id', requestId);
    if (error instanceof PublicError) {
      if (error.status === 401) c.header('WWW-Authenticate', 'Bearer realm="feedpub"');
      const issues = error.issues.length > 0 ? { issues: error.issues } : {};
      return c.json({ error: { code: error.code, message: error.message, ...issues, requestId } }, error.status);
    }
    logger.error('unhandled error', { requestId, error });
    return c.json({ error: { code: 'internal_error', message: 'Internal server error', requestId } }, 500);
  });

  return app;
}
