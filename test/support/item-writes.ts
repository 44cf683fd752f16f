type Stack = { middlewareStack: { add(mw: unknown, options: { step: string; name: string }): void } };
type Key = Record<string, unknown>;
type Action = { Put?: { Item?: Key }; Update?: { Key?: Key }; Delete?: { Key?: Key } };

// Document (plain) or marshalled ({S: ...}) form, whichever the middleware sees.
const plain = (value: unknown) => (typeof value === 'object' && value !== null && 'S' in value ? (value as { S: string }).S : String(value));
const keyOf = (key: Key | undefined) => (key ? `${plain(key.PK)} ${plain(key.SK)}` : '?');

/**
 * Counts item writes by key on a real DynamoDB document client, as DynamoDB applies them: each Put, Update and
 * Delete of a transaction, each item of a batch write, each single-item write. A measure of hot items: the share
 * of all writes that the most written item takes.
 */
export function countItemWrites(doc: unknown) {
  const writes = new Map<string, number>();
  const count = (key: Key | undefined) => writes.set(keyOf(key), (writes.get(keyOf(key)) ?? 0) + 1);
  (doc as Stack).middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: Record<string, any> }) => {
      const result = await next(args);
      const input = args.input;
      switch (context.commandName) {
        case 'TransactWriteItemsCommand':
          for (const action of (input.TransactItems ?? []) as Action[]) count(action.Put?.Item ?? action.Update?.Key ?? action.Delete?.Key);
          break;
        case 'BatchWriteItemCommand':
          for (const requests of Object.values(input.RequestItems ?? {}) as { PutRequest?: { Item: Key }; DeleteRequest?: { Key: Key } }[][]) {
            for (const r of requests) count(r.PutRequest?.Item ?? r.DeleteRequest?.Key);
          }
          break;
        case 'PutItemCommand':
          count(input.Item);
          break;
        case 'UpdateItemCommand':
        case 'DeleteItemCommand':
          count(input.Key);
          break;
      }
      return result;
    },
    { step: 'initialize', name: 'countItemWrites' },
  );
  return {
    writes,
    /** The most written item, its writes, and the share of all writes it took. */
    hottest() {
      const total = [...writes.values()].reduce((a, b) => a + b, 0);
      const [key, n] = [...writes].reduce((max, entry) => (entry[1] > max[1] ? entry : max), ['', 0]);
      return { key, writes: n, total, share: total === 0 ? 0 : n / total };
    },
  };
}
