/** A request's kind: the command, and for DynamoDB which item or query it is (the table's key layout, lib/store/table.ts). */
export function kindOf(service: 'dynamodb' | 's3', command: string, input: Record<string, any>): string {
  if (service === 's3') return `S3 ${command}${typeof input.Key === 'string' ? (input.Key.startsWith('posts/') ? ' (post page)' : ' (feed document)') : ''}`;
  const sk = input.Key?.SK;
  if (typeof sk === 'string') return `${command} ${sk.replace(/#.*/, '')}`;
  if (input.KeyConditionExpression) {
    const condition = String(input.KeyConditionExpression);
    if (condition.includes(':topic')) return `${command} of a topic's subscriptions (its feed's partition, a range)`;
    return `${command} ${condition.includes('SK') ? 'of a feed\'s open posts and inbox (or a range)' : 'of one partition (a feed\'s subscriptions, ...)'}`;
  }
  if (input.RequestItems) return `${command} (${Object.values(input.RequestItems as Record<string, { Keys?: unknown[] }>).reduce((n, r) => n + (r.Keys?.length ?? 0), 0)} keys)`;
  if (input.TransactItems) return `${command} (${input.TransactItems.length} actions)`;
  return command;
}
