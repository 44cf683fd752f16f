import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, paginateScan, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { hubKeys, SUBSCRIPTION_PREFIX } from './keys.js';

/**
 * Moves subscriptions stored by feedpub before layout 4 (`SUB#<topicKey>  <callback>`, a partition per topic) to
 * their feed's partition (lib/hub/keys.ts), each in one transaction: the new item put unless one is there (a
 * renewal stored since, which is newer) and the old one deleted. Idempotent; a Scan, so run once per upgrade
 * (`feedpub hub move-subscriptions`; the local stack runs it when it opens a layout-3 table). Returns how many moved.
 */
export async function moveSubscriptions(doc: DynamoDBDocumentClient, tableName: string): Promise<number> {
  let moved = 0;
  const scan = { TableName: tableName, FilterExpression: 'begins_with(PK, :sub)', ExpressionAttributeValues: { ':sub': SUBSCRIPTION_PREFIX } };
  for await (const page of paginateScan({ client: doc }, scan)) {
    for (const item of page.Items ?? []) {
      const [pk, sk] = [String(item.PK), String(item.SK)];
      // A feed's partition ends with a slash: moved already, or stored so.
      if (pk.endsWith('/')) continue;
      const old = { PK: pk, SK: sk };
      const topicKey = String(item.topicKey);
      const next = { ...item, ...hubKeys.subscription(topicKey, sk), callback: sk };
      try {
        await doc.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: tableName, Item: next, ConditionExpression: 'attribute_not_exists(PK)' } },
              { Delete: { TableName: tableName, Key: old } },
            ],
          }),
        );
      } catch (error) {
        const reasons = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
        if (reasons[0]?.Code !== 'ConditionalCheckFailed') throw error;
        await doc.send(new DeleteCommand({ TableName: tableName, Key: old }));
      }
      moved++;
    }
  }
  return moved;
}
