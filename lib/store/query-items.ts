import { paginateQuery, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

/**
 * The items of a Query, page after page (lib-dynamodb's paginator), or its first `limit`; `more` when the Query
 * stopped at the limit with a page left to read.
 */
export async function queryItems(doc: DynamoDBDocumentClient, input: QueryCommandInput, limit = Infinity): Promise<{ items: Record<string, unknown>[]; more: boolean }> {
  const items: Record<string, unknown>[] = [];
  const bounded = Number.isFinite(limit);
  for await (const page of paginateQuery({ client: doc, ...(bounded ? { pageSize: limit } : {}) }, { ...input })) {
    items.push(...(page.Items ?? []));
    if (bounded && items.length >= limit) return { items: items.slice(0, limit), more: items.length > limit || page.LastEvaluatedKey !== undefined };
  }
  return { items, more: false };
}
