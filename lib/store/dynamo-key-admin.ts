import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, PutCommand, ScanCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keyIdOf } from '../keys/key-format.js';
import type { KeyScope } from '../keys/scope.js';
import { storedKey } from './dynamo-api-keys.js';
import type { StoredKey } from './ports.js';
import { KEY_NAMES_PK, KEY_PK_PREFIX, keys } from './table.js';
import { queryItems } from './query-items.js';

/** A key as `feedpub keys list` shows it: never the key, never its hash. */
export interface KeyListing extends StoredKey {
  /** A short id derived from the hash (lib/keys/key-format.ts), the one the logs carry. */
  id: string;
}

/** The name of the local stack's own key (FEEDPUB_API_KEY or .feedpub/api-key); `npm start` registers it. */
export const OWNER_KEY_NAME = 'local';

/** Names are what `keys revoke` takes: short, plain, unique. */
export const KEY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export class KeyNameTaken extends Error {
  override name = 'KeyNameTaken';
  constructor(keyName: string) {
    super(`a key named '${keyName}' exists already: revoke it first, or choose another name`);
  }
}

export class KeyNotFound extends Error {
  override name = 'KeyNotFound';
  constructor(keyName: string) {
    super(`no key named '${keyName}' (feedpub keys list shows them)`);
  }
}

const NAME = { '#n': 'name' };
const HASH = /^[0-9a-f]{64}$/;

/**
 * Key management (`feedpub keys`, and `npm start` for its own key), with the caller's table access: AWS credentials
 * for a deployed stack, the local data directory for a local one. No publisher key can do any of this, and no
 * function's role may write key items except the authorizer's note of a key's last use.
 *
 * A key is two items written together: `KEY#<hash>` (what the authorizer reads) and `KEY#NAMES`/`<name>` (which
 * keeps names unique and lists every key in one Query).
 */
export class DynamoKeyAdmin {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(hash: string, keyName: string, scope: KeyScope, now = new Date()): Promise<KeyListing> {
    const record: StoredKey = { name: keyName, scope, createdAt: now.toISOString() };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.tableName, Item: { ...keys.keyName(keyName), keyHash: hash }, ConditionExpression: 'attribute_not_exists(PK)' } },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...keys.apiKey(hash), name: keyName, createdAt: record.createdAt, ...(scope.categories.length ? { categories: scope.categories } : {}), ...(scope.tags.length ? { tags: scope.tags } : {}) },
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') throw new KeyNameTaken(keyName);
      throw error;
    }
    return { ...record, id: keyIdOf(hash) };
  }

  /** Every key, by name. */
  async list(): Promise<KeyListing[]> {
    const named = await this.names();
    const records = new Map<string, StoredKey>();
    for (let i = 0; i < named.length; i += 100) {
      let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead?: boolean }> | undefined = {
        [this.tableName]: { Keys: named.slice(i, i + 100).map((n) => keys.apiKey(n.hash)), ConsistentRead: true },
      };
      while (request && Object.keys(request).length > 0) {
        const out = await this.doc.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of out.Responses?.[this.tableName] ?? []) records.set((item.PK as string).slice(KEY_PK_PREFIX.length), storedKey(item));
        request = out.UnprocessedKeys as typeof request;
      }
    }
    return named.flatMap(({ name, hash }) => {
      const record = records.get(hash);
      return record ? [{ ...record, name, id: keyIdOf(hash) }] : [];
    });
  }

  /** The key stored under a hash, as listed: which key a leaked one is. */
  async byHash(hash: string): Promise<KeyListing | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.apiKey(hash), ConsistentRead: true }));
    return out.Item ? { ...storedKey(out.Item), id: keyIdOf(hash) } : undefined;
  }

  /** Ends a key: both items go in one transaction; the caches let it live at most a moment longer (README). */
  async revoke(keyName: string): Promise<KeyListing> {
    const hash = await this.hashOf(keyName);
    if (!hash) throw new KeyNotFound(keyName);
    const record = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.apiKey(hash), ConsistentRead: true }));
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Delete: { TableName: this.tableName, Key: keys.keyName(keyName), ConditionExpression: 'keyHash = :hash', ExpressionAttributeValues: { ':hash': hash } } },
            { Delete: { TableName: this.tableName, Key: keys.apiKey(hash) } },
          ],
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') throw new KeyNotFound(keyName);
      throw error;
    }
    return { ...storedKey(record.Item ?? { name: keyName }), name: keyName, id: keyIdOf(hash) };
  }

  /**
   * Makes `hash` the unscoped key named `local` (the local stack's own key), revoking the key that had the name
   * before: changing FEEDPUB_API_KEY or deleting .feedpub/api-key retires the old one at the next start.
   */
  async registerOwner(hash: string, now = new Date()): Promise<void> {
    const previous = await this.hashOf(OWNER_KEY_NAME);
    await this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          ...(previous && previous !== hash ? [{ Delete: { TableName: this.tableName, Key: keys.apiKey(previous) } }] : []),
          { Put: { TableName: this.tableName, Item: { ...keys.keyName(OWNER_KEY_NAME), keyHash: hash } } },
          {
            Update: {
              TableName: this.tableName,
              Key: keys.apiKey(hash),
              UpdateExpression: 'SET #n = :name, createdAt = if_not_exists(createdAt, :now) REMOVE categories, tags',
              ExpressionAttributeNames: NAME,
              ExpressionAttributeValues: { ':name': OWNER_KEY_NAME, ':now': now.toISOString() },
            },
          },
        ],
      }),
    );
  }

  /**
   * Gives a names entry to every key item made before keys had one (by an older `feedpub keys create`), so that
   * it is listed and can be revoked. Its name is kept when it is free and valid, `legacy-<id>` otherwise. One Scan,
   * once per table: a marker item records that it was done.
   */
  async adoptLegacyKeys(): Promise<string[]> {
    const marker = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.keysAdopted, ConsistentRead: true }));
    if (marker.Item) return [];
    const named = await this.names();
    const hashes = new Set(named.map((n) => n.hash));
    const taken = new Set(named.map((n) => n.name));
    const adopted: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'SK = :key AND begins_with(PK, :prefix)',
          ProjectionExpression: 'PK, #n',
          ExpressionAttributeNames: NAME,
          ExpressionAttributeValues: { ':key': 'KEY', ':prefix': KEY_PK_PREFIX },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const hash = (item.PK as string).slice(KEY_PK_PREFIX.length);
        if (!HASH.test(hash) || hashes.has(hash)) continue;
        const old = typeof item.name === 'string' ? item.name : '';
        const keyName = KEY_NAME_PATTERN.test(old) && !taken.has(old) && old !== OWNER_KEY_NAME ? old : `legacy-${keyIdOf(hash)}`;
        await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...keys.keyName(keyName), keyHash: hash } }));
        if (keyName !== old) {
          await this.doc.send(new UpdateCommand({ TableName: this.tableName, Key: keys.apiKey(hash), UpdateExpression: 'SET #n = :name', ExpressionAttributeNames: NAME, ExpressionAttributeValues: { ':name': keyName } }));
        }
        taken.add(keyName);
        hashes.add(hash);
        adopted.push(keyName);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...keys.keysAdopted, at: new Date().toISOString() } }));
    return adopted;
  }

  private async hashOf(keyName: string): Promise<string | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.keyName(keyName), ConsistentRead: true }));
    return out.Item?.keyHash as string | undefined;
  }

  private async names(): Promise<{ name: string; hash: string }[]> {
    const { items } = await queryItems(this.doc, { TableName: this.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': KEY_NAMES_PK }, ConsistentRead: true });
    return items.map((item) => ({ name: item.SK as string, hash: item.keyHash as string }));
  }
}
