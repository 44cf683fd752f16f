/** One problem with a request: which field, which rule it broke, and a sentence for people. */
export interface FieldIssue {
  field: string;
  rule: string;
  message: string;
}

/**
 * A failure the client can act on. The HTTP status lives with the class; the API maps
 * these to responses in one place, and anything that is not a PublicError becomes a 500.
 */
export abstract class PublicError extends Error {
  abstract readonly status: 400 | 401 | 403 | 404 | 409 | 412 | 413 | 415 | 422 | 503;
  abstract readonly code: string;
  readonly issues: FieldIssue[] = [];
}

export class ValidationError extends PublicError {
  override name = 'ValidationError';
  readonly status = 400;
  readonly code = 'invalid_request';
  override readonly issues: FieldIssue[];
  constructor(issues: FieldIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
    this.issues = issues;
  }
  static of(field: string, rule: string, message: string): ValidationError {
    return new ValidationError([{ field, rule, message }]);
  }
}

/** A Jekyll file that Jekyll itself would not read as a post. */
export class UnreadablePost extends ValidationError {
  override name = 'UnreadablePost';
}

export class PayloadTooLarge extends PublicError {
  override name = 'PayloadTooLarge';
  readonly status = 413;
  readonly code = 'payload_too_large';
  constructor(limitBytes: number) {
    super(`The body is larger than the limit of ${limitBytes} bytes`);
    this.issues.push({ field: 'body', rule: 'max_bytes', message: `must be at most ${limitBytes} bytes` });
  }
}

export class UnsupportedMediaType extends PublicError {
  override name = 'UnsupportedMediaType';
  readonly status = 415;
  readonly code = 'unsupported_media_type';
  constructor(received: string | undefined, accepted: string[]) {
    super(`Content-Type ${received ? `'${received}'` : '(none)'} is not accepted; use ${accepted.join(' or ')}`);
    this.issues.push({ field: 'Content-Type', rule: 'media_type', message: `must be ${accepted.join(' or ')}` });
  }
}

export class Unauthorized extends PublicError {
  override name = 'Unauthorized';
  readonly status = 401;
  readonly code = 'unauthorized';
  constructor() {
    super('A valid publisher key is required: Authorization: Bearer <key>');
  }
}

/** A scoped key asked for a post outside its scope (README, "Keys and scopes"); nothing was written. */
export class OutOfScope extends PublicError {
  override name = 'OutOfScope';
  readonly status = 403;
  readonly code = 'out_of_scope';
  constructor(what: string, issue: FieldIssue) {
    super(`This key may not ${what}: ${issue.message}`);
    this.issues.push(issue);
  }
}

/** Regeneration holds are the owner's tool (imports); a scoped key gets this. */
export class UnscopedKeyRequired extends PublicError {
  override name = 'UnscopedKeyRequired';
  readonly status = 403;
  readonly code = 'unscoped_key_required';
  constructor(what: string) {
    super(`${what} needs an unscoped key; this key is scoped`);
  }
}

export class PostNotFound extends PublicError {
  override name = 'PostNotFound';
  readonly status = 404;
  readonly code = 'post_not_found';
  constructor(id: string) {
    super(`No post with id '${id}'`);
  }
}

export class RouteNotFound extends PublicError {
  override name = 'RouteNotFound';
  readonly status = 404;
  readonly code = 'not_found';
  constructor(method: string, path: string) {
    super(`No route for ${method} ${path}`);
  }
}

/** A write lost its optimistic-concurrency race too many times in a row. */
export class WriteConflict extends PublicError {
  override name = 'WriteConflict';
  readonly status = 409;
  readonly code = 'write_conflict';
  /** `what` names the thing written: a post's id, or any phrase ("The site's settings"). */
  constructor(id: string, options?: ErrorOptions & { what?: string }) {
    super(`${options?.what ?? `Post '${id}'`} is being changed concurrently; retry the request`, options);
  }
}

export class PostExists extends PublicError {
  override name = 'PostExists';
  readonly status = 409;
  readonly code = 'post_exists';
  constructor(id: string) {
    super(`A post with id '${id}' exists already; use PUT /posts/${id} to replace it`);
  }
}

/** A conditional request (If-Match, If-None-Match) whose condition does not hold for the stored post. */
export class PreconditionFailed extends PublicError {
  override name = 'PreconditionFailed';
  readonly status = 412;
  readonly code = 'precondition_failed';
  constructor(id: string, header: 'If-Match' | 'If-None-Match', detail: string) {
    super(`Post '${id}': ${header} does not hold (${detail})`);
    this.issues.push({ field: header, rule: 'precondition', message: detail });
  }
}

/** A regeneration hold named by a write that does not exist (or is long gone). */
export class HoldNotFound extends PublicError {
  override name = 'HoldNotFound';
  readonly status = 404;
  readonly code = 'hold_not_found';
  constructor(id: string) {
    super(`No regeneration hold '${id}'`);
  }
}

/**
 * A WebSub subscription the hub will not take on: the topic has as many subscribers as it serves, or the callback's
 * host as many subscriptions. 409: the request is well formed, the hub's current state refuses it.
 */
export class SubscriptionLimitReached extends PublicError {
  override name = 'SubscriptionLimitReached';
  readonly status = 409;
  readonly code = 'subscription_limit';
  constructor(field: 'hub.topic' | 'hub.callback', rule: string, message: string) {
    super(`${field}: ${message}`);
    this.issues.push({ field, rule, message });
  }
}
