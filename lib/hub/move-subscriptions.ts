import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, paginateScan, PutCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { hubKeys, SUBSCRIPTION_PREFIX } from './keys.js';

/** Whether an item is a subscription as feedpub before layout 4 stored it (`SUB#<topicKey>  <callback>`). */
export const isLegacySubscription = (item: Record<string, unknown>) => {
  const pk = String(item.PK);
  return pk.startsWith(SUBSCRIPTION_PREFIX) && pk !== hubKeys.layout.PK && !pk.endsWith('/');
};

/**
 * Moves one subscription of before layout 4 to its feed's partition, in one transaction: the new item put unless
 * one is there, and the old one deleted only if it is still as it was read. So a subscription stored anew meanwhile
 * (a renewal: newer) is kept and the old item just deleted; one removed meanwhile (an unsubscription, which deletes
 * both keys) is not brought back; one rewritten meanwhile in the old layout (a function of the old version, during
 * a deploy) is read again and moved as it is now. 'moved', 'newer' (only the old item deleted) or 'gone'.
 */
export async function moveLegacySubscription(doc: DynamoDBDocumentClient, tableName: string, read: Record<string, unknown>): Promise<'moved' | 'newer' | 'gone'> {
  const old = { PK: String(read.PK), SK: String(read.SK) };
  let item: Record<string, unknown> | undefined = read;
  for (let attempt = 0; item; attempt++) {
    const next = { ...item, ...hubKeys.subscription(String(item.topicKey), old.SK), callback: old.SK };
    try {
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: tableName, Item: next, ConditionExpression: 'attribute_not_exists(PK)' } },
            { Delete: { TableName: tableName, Key: old, ConditionExpression: 'verifiedAt = :verified', ExpressionAttributeValues: { ':verified': item.verifiedAt } } },
          ],
        }),
      );
      return 'moved';
    } catch (error) {
      const [put, del] = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
      if (put?.Code === 'ConditionalCheckFailed') {
        await doc.send(new DeleteCommand({ TableName: tableName, Key: old }));
        return 'newer';
      }
      if (del?.Code !== 'ConditionalCheckFailed' || attempt === 2) throw error;
    }
    item = (await doc.send(new GetCommand({ TableName: tableName, Key: old, ConsistentRead: true }))).Item;
  }
  return 'gone';
}

/**
 * Moves every subscription stored before layout 4 (moveLegacySubscription each), then marks the table (hubKeys.layout)
 * so that the hub stops looking in the old partitions. Idempotent; a Scan, so run once, after the deploy of an
 * upgrade, once the functions of the old version have stopped (`feedpub hub move-subscriptions`; the local stack runs
 * it when it opens a layout-3 table). Until then the hub finds them in their old partitions too
 * (DynamoSubscriptionStore). Returns how many it moved.
 */
export async function moveSubscriptions(doc: DynamoDBDocumentClient, tableName: string): Promise<number> {
  let moved = 0;
  const scan = { TableName: tableName, FilterExpression: 'begins_with(PK, :sub)', ExpressionAttributeValues: { ':sub': SUBSCRIPTION_PREFIX }, ConsistentRead: true };
  for await (const page of paginateScan({ client: doc }, scan)) {
    for (const item of page.Items ?? []) {
      if (isLegacySubscription(item) && (await moveLegacySubscription(doc, tableName, item)) === 'moved') moved++;
    }
  }
  await doc.send(new PutCommand({ TableName: tableName, Item: { ...hubKeys.layout, version: 4 } }));
  return moved;
}
