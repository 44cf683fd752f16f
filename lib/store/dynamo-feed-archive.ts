import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DELTA, type ArchiveChange, type Member } from '../feeds/archive.js';
import type { FeedChange } from '../feeds/feed-ref.js';
import { isPostItem, LeaseLost, type ArchivePage, type InboxItem, type PostInboxItem, type RenderState, type StoredObject } from './ports.js';
import { ARCHIVED_PREFIX, DIRECTORY_INDEX, INBOX_PREFIX, keys, OPEN_LANE, OPEN_PREFIX, PAGE_PREFIX } from './table.js';
import { queryItems } from './query-items.js';

type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;
type Action = TransactItems[number];

/** One step of a commit: what must change together, and the count change it brings. */
interface Unit {
  actions: Action[];
  delta: number;
}

/** What a render of a feed commits: the new state, what the assignment rule decided, and what it covered. */
export interface ArchiveCommit {
  /** The state after the render: objects of the current document, count, newest, number of pages. */
  state: RenderState;
  /** The open members as read before the render. */
  storedOpen: Member[];
  change: ArchiveChange;
  /** New members of the pages that changed, and the objects written of every page sealed or changed. */
  pages: Map<number, ArchivePage>;
  covered: InboxItem[];
  /** Whether this is the render's last slice: it records the current document and releases the lease. */
  last: boolean;
}

const MAX_ACTIONS = 99;
const toMember = (item: Record<string, unknown>): Member => ({ id: String(item.id), date: String(item.date), w: String(item.w) });
const toInbox = (item: Record<string, unknown>): InboxItem =>
  item.change === 'settings' ? { sk: String(item.SK), change: 'settings', version: Number(item.version) } : { sk: String(item.SK), postId: String(item.postId), change: item.change as FeedChange };

/** A feed's current document members, archive pages and inbox in the table (docs/DESIGN.md, archives). */
export class DynamoFeedArchive {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * The feed's open members and its inbox: held lanes (a release) each by a Query of its own, then one Query of
   * the open members and the open lane, which sort next to each other (lib/store/table.ts).
   */
  async readOpen(feedId: string, lanes: string[], heldLimit = Infinity): Promise<{ open: Member[]; inbox: InboxItem[]; heldLeft: boolean }> {
    const pk = keys.feedPartition(feedId);
    const open: Member[] = [];
    const inbox: InboxItem[] = [];
    let heldLeft = false;
    const query = async (condition: string, values: Record<string, string>, each: (item: Record<string, unknown>) => void, limit = Infinity) => {
      const { items, more } = await queryItems(this.doc, { TableName: this.tableName, KeyConditionExpression: `PK = :pk AND ${condition}`, ExpressionAttributeValues: { ':pk': pk, ...values }, ConsistentRead: true }, limit);
      items.forEach(each);
      return more;
    };
    // A released hold's lane at most `heldLimit` items a render: a release of a large import renders in several
    // turns, each holding the feed's lease a bounded time, so a live write's render gets in between them.
    for (const lane of lanes.filter((l) => l !== OPEN_LANE)) {
      const left = heldLimit - inbox.length;
      if (left <= 0) {
        heldLeft = true;
        break;
      }
      if (await query('begins_with(SK, :lane)', { ':lane': `${INBOX_PREFIX}${lane}#` }, (item) => inbox.push(toInbox(item)), left)) heldLeft = true;
    }
    const upper = lanes.includes(OPEN_LANE) ? `${INBOX_PREFIX}${OPEN_LANE}$` : `${OPEN_PREFIX.slice(0, -1)}$`;
    await query('SK BETWEEN :lower AND :upper', { ':lower': OPEN_PREFIX, ':upper': upper }, (item) => {
      if (String(item.SK).startsWith(OPEN_PREFIX)) open.push(toMember(item));
      else inbox.push(toInbox(item));
    });
    return { open, inbox, heldLeft };
  }

  /** Archive pages by number (absent ones are left out). */
  async pages(feedId: string, numbers: number[]): Promise<Map<number, ArchivePage>> {
    const found = new Map<number, ArchivePage>();
    for (const item of await this.batchGet(numbers.map((n) => keys.archivePage(feedId, n)))) {
      const page = Number(String(item.SK).slice(PAGE_PREFIX.length));
      found.set(page, { page, members: ((item.members as Record<string, unknown>[] | undefined) ?? []).map(toMember), objects: (item.objects as Record<string, StoredObject>) ?? {} });
    }
    return found;
  }

  /**
   * The archive page of each archived post among `ids`, checked against the page itself: a pointer to a page past
   * `pages` (prepared by a render that never committed) or to a page that does not list the post is stale.
   */
  async locate(feedId: string, ids: string[], pages: number): Promise<{ places: Map<string, number>; read: Map<number, ArchivePage> }> {
    const pointers = await this.batchGet(ids.map((id) => keys.archived(feedId, id)));
    const claimed = new Map(pointers.map((item) => [String(item.SK).slice(ARCHIVED_PREFIX.length), Number(item.page)] as const).filter(([, page]) => page <= pages));
    const read = await this.pages(feedId, [...new Set(claimed.values())]);
    const places = new Map([...claimed].filter(([id, page]) => read.get(page)?.members.some((m) => m.id === id)));
    return { places, read };
  }

  /**
   * Commits a render (or one slice of it) in transactions that each leave a consistent state, in this order:
   * - each sealed page: first prepared (the page and its posts' pointers: ignored while the page number is past
   *   the feed's count of pages), then made part of the feed in one transaction that counts it and removes its
   *   posts from the open members, with the inbox items of the posts that arrived straight into it;
   * - every other change, each post's with the deletion of its inbox items and the count change they bring;
   * - on the last slice, the current document's objects, and the lease released.
   * A crash between two leaves every write either done or still in the inbox.
   */
  async commit(feedId: string, owner: string, c: ArchiveCommit): Promise<void> {
    const TableName = this.tableName;
    const renderKey = keys.feedRender(feedId);
    const inboxOf = groupInbox(c.covered.filter(isPostItem));
    const wasOpen = new Map(c.storedOpen.map((m) => [m.id, m]));
    const deletions = (id: string): Unit => {
      const items = inboxOf.get(id) ?? [];
      inboxOf.delete(id);
      return { actions: items.map((i) => ({ Delete: { TableName, Key: { PK: renderKey.PK, SK: i.sk } } })), delta: items.reduce((n, i) => n + DELTA[i.change], 0) };
    };
    const leased = (update: string, values: Record<string, unknown>, names: Record<string, string> = {}): Action => ({
      Update: { TableName, Key: renderKey, UpdateExpression: update, ConditionExpression: 'leaseOwner = :owner', ExpressionAttributeNames: { '#count': 'count', ...names }, ExpressionAttributeValues: { ':owner': owner, ...values } },
    });

    for (const { page, members } of c.change.sealed) {
      await this.transact([
        { Put: { TableName, Item: { ...keys.archivePage(feedId, page), members, objects: c.pages.get(page)?.objects ?? {} } } },
        ...members.map((m): Action => ({ Put: { TableName, Item: { ...keys.archived(feedId, m.id), page } } })),
      ]);
      const units = members.map((m) => (wasOpen.has(m.id) ? { actions: [{ Delete: { TableName, Key: keys.openMember(feedId, m.id) } }], delta: 0 } : deletions(m.id)));
      const delta = units.reduce((n, u) => n + u.delta, 0);
      await this.transact([leased('SET pages = :page ADD #count :delta', { ':page': page, ':delta': delta }), ...units.flatMap((u) => u.actions)]);
    }

    const units: Unit[] = [];
    const open = new Map(c.change.open.map((m) => [m.id, m]));
    for (const m of c.change.open) {
      const before = wasOpen.get(m.id);
      const own = deletions(m.id);
      if (!before || before.w !== m.w) own.actions.push({ Put: { TableName, Item: { ...keys.openMember(feedId, m.id), ...m } } });
      units.push(own);
    }
    const sealed = new Set(c.change.sealed.flatMap((s) => s.members.map((m) => m.id)));
    for (const m of c.storedOpen) {
      if (open.has(m.id) || sealed.has(m.id)) continue;
      const own = deletions(m.id);
      own.actions.push({ Delete: { TableName, Key: keys.openMember(feedId, m.id) } });
      units.push(own);
    }
    for (const [page, { edited, removed }] of c.change.pageChanges) {
      const own = [...edited.map((m) => m.id), ...removed].map(deletions);
      units.push({
        actions: [
          { Update: { TableName, Key: keys.archivePage(feedId, page), UpdateExpression: 'SET members = :members, objects = :objects', ExpressionAttributeValues: { ':members': c.pages.get(page)!.members, ':objects': c.pages.get(page)!.objects } } },
          ...removed.map((id): Action => ({ Delete: { TableName, Key: keys.archived(feedId, id) } })),
          ...own.flatMap((u) => u.actions),
        ],
        delta: own.reduce((n, u) => n + u.delta, 0),
      });
    }
    // Inbox items of posts that are nowhere before and after (created and deleted between two renders).
    for (const id of [...inboxOf.keys()]) units.push(deletions(id));
    // Changes of the site's settings, last: they go with the current document, rendered with the settings.
    units.push({ actions: c.covered.filter((i) => !isPostItem(i)).map((i): Action => ({ Delete: { TableName, Key: { PK: renderKey.PK, SK: i.sk } } })), delta: 0 });

    const final = c.last ? this.finalUpdate(c.state) : undefined;
    let batch: Unit[] = [];
    const flush = async (closing: boolean) => {
      const delta = batch.reduce((n, u) => n + u.delta, 0);
      const head = closing && final ? leased(`${final.set} ADD #count :delta ${final.remove}`, { ...final.values, ':delta': delta }, final.names) : leased('ADD #count :delta', { ':delta': delta });
      if (batch.length > 0 || closing) await this.transact([head, ...batch.flatMap((u) => u.actions)]);
      batch = [];
    };
    for (const unit of units.filter((u) => u.actions.length > 0 || u.delta !== 0)) {
      if (batch.reduce((n, u) => n + u.actions.length, 0) + unit.actions.length > MAX_ACTIONS - 1) await flush(false);
      batch.push(unit);
    }
    await flush(c.last);
  }

  private finalUpdate(state: RenderState) {
    const listed = state.count > 0;
    return {
      set: `SET objects = :objects, renderedAt = :at, pages = :pages${state.newest ? ', newest = :newest' : ''}${listed ? ', #listed = :listed' : ''}`,
      remove: `REMOVE leaseOwner, leaseUntil${state.newest ? '' : ', newest'}${listed ? '' : ', #listed'}`,
      names: { '#listed': DIRECTORY_INDEX.partitionKey },
      values: {
        ':objects': state.objects,
        ':at': new Date().toISOString(),
        ':pages': state.pages ?? 0,
        ...(state.newest ? { ':newest': state.newest } : {}),
        ...(listed ? { ':listed': DIRECTORY_INDEX.partition } : {}),
      },
    };
  }

  private async transact(items: TransactItems): Promise<void> {
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      const lost =
        error instanceof ConditionalCheckFailedException ||
        (error instanceof TransactionCanceledException && (error.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed'));
      if (lost) throw new LeaseLost('The lease was taken over while the render committed', { cause: error });
      throw error;
    }
  }

  private async batchGet(keyList: { PK: string; SK: string }[]): Promise<Record<string, unknown>[]> {
    const found: Record<string, unknown>[] = [];
    for (let i = 0; i < keyList.length; i += 100) {
      let request: Record<string, { Keys: Record<string, string>[]; ConsistentRead: boolean }> | undefined = { [this.tableName]: { Keys: keyList.slice(i, i + 100), ConsistentRead: true } };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        const out = await this.doc.send(new BatchGetCommand({ RequestItems: request }));
        found.push(...(out.Responses?.[this.tableName] ?? []));
        request = out.UnprocessedKeys as typeof request;
      }
    }
    return found;
  }
}

/** Inbox items by post. */
function groupInbox(items: PostInboxItem[]): Map<string, PostInboxItem[]> {
  const byPost = new Map<string, PostInboxItem[]>();
  for (const item of items) byPost.set(item.postId, [...(byPost.get(item.postId) ?? []), item]);
  return byPost;
}
