import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, paginateScan, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { hubKeys, SUBSCRIPTION_PREFIX } from './keys.js';

/** Whether an item is a subscription as feedpub before layout 4 stored it (`SUB#<topicKey>  <callback>`). */
export const isLegacySubscription = (item: Record<string, unknown>) => String(item.PK).startsWith(SUBSCRIPTION_PREFIX) && !String(item.PK).endsWith('/');

/**
 * Moves one subscription of before layout 4 to its feed's partition, in one transaction: the new item put unless
 * one is there, and the old one deleted only if it is still there. So a subscription stored anew meanwhile (a
 * renewal: newer) is kept and the old item just deleted, and one removed meanwhile (an unsubscription, which deletes
 * both keys) is not brought back. 'moved', 'newer' (only the old item deleted) or 'gone'.
 */
export async function moveLegacySubscription(doc: DynamoDBDocumentClient, tableName: string, item: Record<string, unknown>): Promise<'moved' | 'newer' | 'gone'> {
  const old = { PK: String(item.PK), SK: String(item.SK) };
  const next = { ...item, ...hubKeys.subscription(String(item.topicKey), old.SK), callback: old.SK };
  try {
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: tableName, Item: next, ConditionExpression: 'attribute_not_exists(PK)' } },
          { Delete: { TableName: tableName, Key: old, ConditionExpression: 'attribute_exists(PK)' } },
        ],
      }),
    );
    return 'moved';
  } catch (error) {
    const [put, del] = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
    if (del?.Code === 'ConditionalCheckFailed') return 'gone';
    if (put?.Code !== 'ConditionalCheckFailed') throw error;
    await doc.send(new DeleteCommand({ TableName: tableName, Key: old }));
    return 'newer';
  }
}

/**
 * Moves every subscription stored before layout 4 (moveLegacySubscription each). Idempotent; a Scan, so run once
 * after the deploy of an upgrade (`feedpub hub move-subscriptions`; the local stack runs it when it opens a
 * layout-3 table). Until it has run the hub finds them in their old partitions too (DynamoSubscriptionStore's
 * legacy reads), and moves those it reads. Returns how many it moved.
 */
export async function moveSubscriptions(doc: DynamoDBDocumentClient, tableName: string): Promise<number> {
  let moved = 0;
  const scan = { TableName: tableName, FilterExpression: 'begins_with(PK, :sub)', ExpressionAttributeValues: { ':sub': SUBSCRIPTION_PREFIX }, ConsistentRead: true };
  for await (const page of paginateScan({ client: doc }, scan)) {
    for (const item of page.Items ?? []) {
      if (isLegacySubscription(item) && (await moveLegacySubscription(doc, tableName, item)) === 'moved') moved++;
    }
  }
  return moved;
}
