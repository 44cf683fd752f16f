import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { SiteConfig } from '../config.js';
import { HoldNotFound, PayloadTooLarge, PostNotFound, PublicError, RouteNotFound, Unauthorized, UnsupportedMediaType, ValidationError } from '../errors.js';
import { logger } from '../log.js';
import { nameSchema, postIdSchema, toFieldIssues } from '../posts/post-input.js';
import { postEtag, type PostService, type Preconditions } from '../posts/post-service.js';
import { isHolding, type DynamoHoldRepository } from '../store/dynamo-hold.js';
import { holdLane } from '../store/table.js';
import type { WriteOptions } from '../store/ports.js';
import { LIMITS, type Post } from '../posts/post.js';
import * as z from 'zod/mini';
import '../zod-locale.js';
import type { ApiKeyVerifier } from './auth.js';
import { postJson } from './post-json.js';
import { errorJson, readBatch } from './read-batch.js';
import { parseJson, readDraft } from './read-draft.js';

export interface ApiDeps {
  posts: PostService;
  keys: ApiKeyVerifier;
  site: SiteConfig;
  holds: Pick<DynamoHoldRepository, 'create' | 'get' | 'renew' | 'release' | 'marked'>;
}

const holdSchema = z.strictObject({ seconds: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(900)), 120) });
const holdIdSchema = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be a hold id this API returned'));

const HOLD_HEADER = 'feedpub-hold';

type Env = { Variables: { requestId: string }; Bindings: { requestContext?: { requestId?: string } } };

const listQuerySchema = z.strictObject({
  // Only a name a post may have can name a feed.
  category: z.optional(nameSchema),
  tag: z.optional(nameSchema),
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 20),
  cursor: z.optional(z.string().check(z.minLength(1))),
});

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

/** The publisher API: one web-standard app, served by API Gateway + Lambda in AWS and by the local runner. */
export function createApp({ posts, keys, site, holds }: ApiDeps): Hono<Env> {
  const app = new Hono<Env>();
  const respond = (c: Context<Env>, post: Post, status: 200 | 201) => {
    c.header('ETag', postEtag(post));
    return c.json(postJson(post, site.feedsUrl), status);
  };
  const preconditions = (c: Context<Env>): Preconditions => {
    const [ifMatch, ifNoneMatch] = [c.req.header('if-match'), c.req.header('if-none-match')];
    return { ...(ifMatch !== undefined ? { ifMatch } : {}), ...(ifNoneMatch !== undefined ? { ifNoneMatch } : {}) };
  };
  /** A write sent under an import's hold waits in the hold's lane; a hold that no longer holds defers nothing. */
  const writeOptions = async (c: Context<Env>): Promise<WriteOptions> => {
    const id = c.req.header(HOLD_HEADER);
    if (id === undefined) return {};
    if (!holdIdSchema.safeParse(id).success) throw ValidationError.of('Feedpub-Hold', 'hold_id', 'must be a hold id this API returned');
    const hold = await holds.get(id);
    if (!hold) throw new HoldNotFound(id);
    return isHolding(hold) ? { lane: holdLane(id) } : {};
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
      logger.removeKeys(['requestId', 'postId']);
    }
  });

  app.get('/health', (c) => c.json({ status: 'ok' }));

  const requireKey = async (c: Context<Env>, next: () => Promise<void>) => {
    if (!(await keys.verify(c.req.header('authorization')))) throw new Unauthorized();
    await next();
  };
  // '/posts/*' also matches '/posts'.
  app.use('/posts/*', requireKey);
  app.use('/regeneration/*', requireKey);
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
    const draft = await readDraft(c, site);
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
    if ((c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase() !== 'application/json') {
      throw new UnsupportedMediaType(c.req.header('content-type'), ['application/json']);
    }
    const items = readBatch(await c.req.text(), site);
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
    const draft = await readDraft(c, site);
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
    return respond(c, post, 200);
  });

  app.delete('/posts/:id', async (c) => {
    const id = pathId(c);
    await posts.remove(id, preconditions(c));
    logger.info('post deleted', { postId: id });
    return c.body(null, 204);
  });

  app.get('/posts', async (c) => {
    const page = await posts.list(parseQuery(c));
    return c.json({ posts: page.posts.map((p) => postJson(p, site.feedsUrl)), ...(page.cursor ? { cursor: page.cursor } : {}) });
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
