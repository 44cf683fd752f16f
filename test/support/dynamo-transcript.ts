/**
 * A transcript of raw DynamoDB and DynamoDB Streams requests (the JSON protocol, as the SDK sends it) and their
 * answers, normalized for what legitimately differs between two servers (ids, times, ARNs, table names, the
 * gaps DynamoDB Local leaves in sequence numbers, the order of a Scan). The same transcript from DynamoDB Local
 * and from memory-dynamo shows where the latter answers otherwise.
 */
type Step = [string, unknown];

const IGNORED = new Set(['eventID', 'ApproximateCreationDateTime', 'CreationDateTime', 'CreationRequestDateTime', 'LatestStreamLabel', 'LatestStreamArn', 'StreamArn', 'StreamLabel', 'TableArn', 'IndexArn', 'ShardId', 'ShardIterator', 'NextShardIterator', 'awsRegion', 'ProvisionedThroughput', 'BillingModeSummary', 'StartingSequenceNumber', 'SequenceNumber', 'TableName']);

function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (!v || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  // DynamoDB Local says nothing more in this one; nor does it matter.
  const quiet = String(o.__type).endsWith('IdempotentParameterMismatchException');
  return Object.fromEntries(Object.keys(o).sort().map((key) => [key, IGNORED.has(key) || (quiet && key === 'Message') ? '*' : normalize(o[key])]));
}

export async function transcript(endpoint: string): Promise<string[]> {
  const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const T = `parity-${suffix}`;
  const H = `parity-hash-${suffix}`;
  const k = (pk: string, sk = '1') => ({ PK: { S: pk }, SK: { S: sk } });
  const cc = { ReturnConsumedCapacity: 'TOTAL' };
  const big = 'x'.repeat(1500);
  const D = (op: string, b: unknown): Step => [`DynamoDB_20120810.${op}`, b];
  const steps: Step[] = [
    D('CreateTable', { TableName: H, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'PK', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'PK', KeyType: 'HASH' }] }),
    D('CreateTable', { TableName: T, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'PK', AttributeType: 'S' }, { AttributeName: 'SK', AttributeType: 'S' }, { AttributeName: 'listed', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'PK', KeyType: 'HASH' }, { AttributeName: 'SK', KeyType: 'RANGE' }], GlobalSecondaryIndexes: [{ IndexName: 'feeds', KeySchema: [{ AttributeName: 'listed', KeyType: 'HASH' }, { AttributeName: 'PK', KeyType: 'RANGE' }], Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['count'] } }], StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' } }),
    D('CreateTable', { TableName: T, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'PK', AttributeType: 'S' }, { AttributeName: 'SK', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'PK', KeyType: 'HASH' }, { AttributeName: 'SK', KeyType: 'RANGE' }] }),
    D('DescribeTable', { TableName: T }),
    D('DescribeTable', { TableName: 'nope' }),
    D('PutItem', { TableName: T, Item: { ...k('a'), n: { N: '1.50' }, big: { N: '+0012300' }, e: { N: '1E3' } }, ...cc }),
    D('GetItem', { TableName: T, Key: k('a'), ...cc }),
    D('GetItem', { TableName: T, Key: k('a', 'missing'), ...cc }),
    D('GetItem', { TableName: T, Key: k('a', 'missing'), ConsistentRead: true, ...cc }),
    D('GetItem', { TableName: T, Key: { PK: { S: 'a' } } }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET x = :one', ConditionExpression: 'phase <> :p', ExpressionAttributeValues: { ':one': { N: '1' }, ':p': { S: 'p' } }, ...cc }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET y = :one', ConditionExpression: 'n <> :p', ExpressionAttributeValues: { ':one': { N: '1' }, ':p': { S: '1.5' } }, ...cc }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET z = :one', ConditionExpression: 'NOT (phase = :p)', ExpressionAttributeValues: { ':one': { N: '1' }, ':p': { S: 'p' } } }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET z = :one', ConditionExpression: 'n < :p', ExpressionAttributeValues: { ':one': { N: '1' }, ':p': { S: 'p' } } }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET z = :one', ExpressionAttributeValues: { ':one': { N: '1' } }, ReturnValues: 'ALL_NEW', ...cc }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET z = z + :one, big = :one - big', ExpressionAttributeValues: { ':one': { N: '1.25' } }, ReturnValues: 'UPDATED_NEW', ...cc }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'ADD z :one, s :s DELETE t :t', ExpressionAttributeValues: { ':one': { N: '-3' }, ':s': { SS: ['b', 'a'] }, ':t': { SS: ['a'] } }, ReturnValues: 'ALL_NEW' }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'ADD s :s', ExpressionAttributeValues: { ':s': { SS: ['c', 'a'] } }, ReturnValues: 'UPDATED_OLD' }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'DELETE s :s', ExpressionAttributeValues: { ':s': { SS: ['c', 'a', 'b'] } }, ReturnValues: 'ALL_NEW' }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET l = list_append(if_not_exists(l, :empty), :l), m = :m', ExpressionAttributeValues: { ':empty': { L: [] }, ':l': { L: [{ S: 'x' }] }, ':m': { M: { a: { M: { b: { N: '1' } } } } } }, ReturnValues: 'UPDATED_NEW' }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET l = list_append(:l, l), m.a.c = :v, m.a.b = m.a.b + :v REMOVE n', ExpressionAttributeValues: { ':l': { L: [{ S: 'y' }] }, ':v': { N: '2' } }, ReturnValues: 'ALL_NEW' }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET l[5] = :v REMOVE l[0]', ExpressionAttributeValues: { ':v': { N: '2' } }, ReturnValues: 'ALL_NEW' }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'REMOVE l[0], l[1]', ReturnValues: 'ALL_NEW' }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET m.nope.x = :v', ExpressionAttributeValues: { ':v': { N: '2' } } }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET q = :v', ConditionExpression: 'size(m) = :one AND contains(l, :x) AND attribute_type(m, :M) AND z IN (:a, :b, :v) AND z BETWEEN :a AND :b', ExpressionAttributeValues: { ':v': { N: '2' }, ':one': { N: '1' }, ':x': { N: '2' }, ':M': { S: 'M' }, ':a': { N: '-2' }, ':b': { N: '-1' } }, ReturnValues: 'UPDATED_NEW' }),
    D('PutItem', { TableName: T, Item: { ...k('b'), listed: { S: 'feeds' }, count: { N: '3' }, other: { S: 'x' } }, ...cc }),
    D('PutItem', { TableName: T, Item: { ...k('b'), listed: { S: 'feeds' }, count: { N: '3' }, other: { S: 'x' } }, ...cc }),
    D('DeleteItem', { TableName: T, Key: k('nothing'), ...cc }),
    D('DeleteItem', { TableName: T, Key: k('b'), ReturnValues: 'ALL_OLD', ...cc }),
    D('PutItem', { TableName: T, Item: k('a'), ConditionExpression: 'attribute_not_exists(PK)' }),
    D('PutItem', { TableName: T, Item: k('a'), ConditionExpression: 'attribute_not_exists(PK)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET c = :one', ExpressionAttributeValues: { ':one': { N: '1' }, ':two': { N: '2' } } }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET c = :one', ExpressionAttributeNames: { '#x': 'x' }, ExpressionAttributeValues: { ':one': { N: '1' } } }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET #y = :one', ExpressionAttributeValues: { ':one': { N: '1' } } }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET c = :nope' }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET PK = :one', ExpressionAttributeValues: { ':one': { S: '1' } } }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET v = :s, v = :s', ExpressionAttributeValues: { ':s': { N: '1' } } }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET v = v + :s', ExpressionAttributeValues: { ':s': { S: 'x' } } }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET w = q9 + :s', ExpressionAttributeValues: { ':s': { N: '1' } } }),
    D('UpdateItem', { TableName: T, Key: k('a'), UpdateExpression: 'SET w = :s SET x = :s', ExpressionAttributeValues: { ':s': { N: '1' } } }),
    D('UpdateItem', { TableName: T, Key: k('fresh'), UpdateExpression: 'SET w = :s', ExpressionAttributeValues: { ':s': { N: '1' } }, ReturnValues: 'ALL_OLD', ...cc }),
    D('PutItem', { TableName: T, Item: { PK: { S: 'a' } } }),
    D('PutItem', { TableName: T, Item: { PK: { N: '1' }, SK: { S: '1' } } }),
    D('PutItem', { TableName: T, Item: { PK: { S: '' }, SK: { S: '1' } } }),
    D('PutItem', { TableName: T, Item: { ...k('q'), listed: { N: '1' } } }),
    D('PutItem', { TableName: T, Item: { ...k('q'), s: { SS: [] } } }),
    D('PutItem', { TableName: T, Item: { ...k('q'), s: { SS: ['a', 'a'] } } }),
    D('PutItem', { TableName: T, Item: k('a'), ReturnValues: 'ALL_NEW' }),
    D('Query', { TableName: T, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': { S: 'a' } }, ...cc }),
    D('Query', { TableName: T, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': { S: 'zz' } }, ...cc }),
    D('Query', { TableName: T, IndexName: 'feeds', KeyConditionExpression: 'listed = :pk', ExpressionAttributeValues: { ':pk': { S: 'feeds' } }, ConsistentRead: true }),
    D('PutItem', { TableName: T, Item: { ...k('c'), listed: { S: 'feeds' }, count: { N: '3' }, other: { S: 'x' } }, ...cc }),
    D('PutItem', { TableName: T, Item: { ...k('d'), listed: { S: 'feeds' }, count: { N: '4' } }, ...cc }),
    D('Query', { TableName: T, IndexName: 'feeds', KeyConditionExpression: 'listed = :pk', ExpressionAttributeValues: { ':pk': { S: 'feeds' } }, Limit: 1, ...cc }),
    D('Query', { TableName: T, IndexName: 'feeds', KeyConditionExpression: 'listed = :pk', ExpressionAttributeValues: { ':pk': { S: 'feeds' } }, ExclusiveStartKey: { listed: { S: 'feeds' }, ...k('c') }, ...cc }),
    D('Query', { TableName: T, IndexName: 'feeds', KeyConditionExpression: 'listed = :pk', ExpressionAttributeValues: { ':pk': { S: 'feeds' } }, ScanIndexForward: false }),
    D('Query', { TableName: T, IndexName: 'nope', KeyConditionExpression: 'listed = :pk', ExpressionAttributeValues: { ':pk': { S: 'feeds' } } }),
    D('TransactWriteItems', { TransactItems: [{ Put: { TableName: T, Item: k('t') } }, { ConditionCheck: { TableName: T, Key: k('a'), ConditionExpression: 'attribute_exists(PK)' } }, { Delete: { TableName: T, Key: k('c') } }], ...cc }),
    D('TransactWriteItems', { TransactItems: [{ Put: { TableName: T, Item: k('t', '2') } }, { ConditionCheck: { TableName: T, Key: k('a'), ConditionExpression: 'attribute_not_exists(PK)' } }], ...cc }),
    D('TransactWriteItems', { TransactItems: [{ Put: { TableName: T, Item: k('t', '2') } }, { Delete: { TableName: T, Key: k('t', '2') } }] }),
    D('TransactWriteItems', { TransactItems: [{ Update: { TableName: T, Key: k('t', '3'), UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { N: '1' } } } }, { Put: { TableName: T, Item: k('t', '4'), ConditionExpression: 'attribute_exists(PK)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } }, { Put: { TableName: T, Item: k('t'), ConditionExpression: 'attribute_not_exists(PK)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } }] }),
    D('TransactWriteItems', { TransactItems: [{ Update: { TableName: T, Key: k('t', '3'), UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { N: '1' } } } }, { Put: { TableName: T, Item: { ...k('t', '4'), listed: { S: 'feeds' } } } }], ...cc }),
    D('BatchWriteItem', { RequestItems: { [T]: [{ PutRequest: { Item: k('w') } }, { PutRequest: { Item: { ...k('w2'), v: { S: big } } } }, { DeleteRequest: { Key: k('t', '3') } }] }, ...cc }),
    D('BatchWriteItem', { RequestItems: { [T]: [{ PutRequest: { Item: k('w') } }, { DeleteRequest: { Key: k('w') } }] } }),
    D('BatchGetItem', { RequestItems: { [T]: { Keys: [k('w'), k('w2'), k('x')], ProjectionExpression: 'PK' } }, ...cc }),
    D('BatchGetItem', { RequestItems: { [T]: { Keys: [k('w'), k('w')] } } }),
    // A render's lease and record, as feedpub writes them (lib/store/dynamo-feed-state.ts), and the directory.
    D('UpdateItem', { TableName: T, Key: k('FEED#f', 'RENDER'), UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until', ConditionExpression: 'attribute_not_exists(leaseUntil) OR leaseUntil < :now', ExpressionAttributeValues: { ':owner': { S: 'o' }, ':until': { N: '1700000005000' }, ':now': { N: '1700000000000' } }, ReturnValues: 'ALL_NEW', ...cc }),
    D('UpdateItem', { TableName: T, Key: k('FEED#f', 'RENDER'), UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until', ConditionExpression: 'attribute_not_exists(leaseUntil) OR leaseUntil < :now', ExpressionAttributeValues: { ':owner': { S: 'p' }, ':until': { N: '1700000006000' }, ':now': { N: '1700000001000' } }, ReturnValues: 'ALL_NEW' }),
    D('UpdateItem', { TableName: T, Key: k('FEED#f', 'RENDER'), UpdateExpression: 'SET objects = :objects, #count = :count, renderedAt = :at, newest = :newest, #listed = :listed REMOVE leaseOwner, leaseUntil', ConditionExpression: 'leaseOwner = :owner', ExpressionAttributeNames: { '#count': 'count', '#listed': 'listed' }, ExpressionAttributeValues: { ':objects': { M: { 'rss.xml': { M: { hash: { S: 'h' }, etag: { S: '"e"' } } } } }, ':count': { N: '2' }, ':at': { S: '2024-01-01T00:00:00.000Z' }, ':newest': { S: '2024' }, ':listed': { S: 'feeds' }, ':owner': { S: 'o' } }, ReturnValues: 'ALL_NEW', ...cc }),
    D('Query', { TableName: T, IndexName: 'feeds', KeyConditionExpression: '#listed = :feeds', ExpressionAttributeNames: { '#listed': 'listed' }, ExpressionAttributeValues: { ':feeds': { S: 'feeds' } }, ...cc }),
  ];
  for (const sk of ['a', 'b', 'c', 'ba', 'bb', 'd']) steps.push(D('PutItem', { TableName: T, Item: { PK: { S: 'p' }, SK: { S: sk }, v: { N: '1' } } }));
  const q = (extra: object) => D('Query', { TableName: T, KeyConditionExpression: 'PK = :p', ExpressionAttributeValues: { ':p': { S: 'p' } }, ...extra });
  const kq = (cond: string, values: object, extra: object = {}) => D('Query', { TableName: T, KeyConditionExpression: `PK = :p AND ${cond}`, ExpressionAttributeValues: { ':p': { S: 'p' }, ...values }, ...extra });
  steps.push(
    q({ Limit: 6 }), q({ Limit: 2, ExclusiveStartKey: { PK: { S: 'p' }, SK: { S: 'b' } } }), q({ Limit: 9, ScanIndexForward: false, ExclusiveStartKey: { PK: { S: 'p' }, SK: { S: 'bab' } } }),
    q({ ExclusiveStartKey: { PK: { S: 'p' } } }), q({ ExclusiveStartKey: { PK: { S: 'other' }, SK: { S: 'a' } } }), q({ Select: 'COUNT', ...cc }), q({ FilterExpression: 'v = :no', ExpressionAttributeValues: { ':p': { S: 'p' }, ':no': { N: '2' } }, ...cc }),
    q({ FilterExpression: 'SK = :no', ExpressionAttributeValues: { ':p': { S: 'p' }, ':no': { N: '2' } } }), q({ ProjectionExpression: 'SK' }),
    kq('begins_with(SK, :b)', { ':b': { S: 'b' } }), kq('begins_with(SK, :b)', { ':b': { S: 'b' } }, { ScanIndexForward: false, Limit: 2 }),
    kq('SK < :b', { ':b': { S: 'b' } }), kq('SK <= :b', { ':b': { S: 'b' } }), kq('SK > :b', { ':b': { S: 'b' } }), kq('SK >= :b', { ':b': { S: 'b' } }), kq('SK = :b', { ':b': { S: 'b' } }),
    kq('SK BETWEEN :a AND :b', { ':a': { S: 'b' }, ':b': { S: 'c' } }), kq('SK BETWEEN :a AND :b', { ':a': { S: 'c' }, ':b': { S: 'b' } }), kq('SK <> :b', { ':b': { S: 'b' } }), kq('v = :b', { ':b': { N: '1' } }),
    kq('begins_with(SK, :b)', { ':b': { N: '1' } }), kq(':b < SK', { ':b': { S: 'b' } }),
    D('Query', { TableName: T, KeyConditionExpression: 'SK > :a AND PK = :p', ExpressionAttributeValues: { ':p': { S: 'p' }, ':a': { S: 'b' } } }),
    D('Query', { TableName: T, KeyConditionExpression: 'PK = :p', ExpressionAttributeValues: { ':p': { N: '1' } } }),
    D('Query', { TableName: T, KeyConditionExpression: 'SK = :p', ExpressionAttributeValues: { ':p': { S: 'p' } } }),
    D('Scan', { TableName: T, FilterExpression: 'begins_with(PK, :t) OR SK = :two', ExpressionAttributeValues: { ':t': { S: 't' }, ':two': { S: '2' } }, ProjectionExpression: 'PK, SK', ...cc }),
    D('Scan', { TableName: T, Select: 'COUNT' }),
    D('PutItem', { TableName: T, Item: { ...k('types'), l: { L: [{ S: 'a' }, { N: '1' }] }, m: { M: { a: { S: 'b' } } }, ss: { SS: ['a', 'bc'] }, ns: { NS: ['1', '2.50'] }, b: { B: 'AAEC' }, bs: { BS: ['AAEC', 'AQ=='] }, t: { BOOL: true }, nul: { NULL: true }, e: { S: '' }, u: { S: '日本😀' } } }),
    D('GetItem', { TableName: T, Key: k('types'), ProjectionExpression: 'l[1], m.a, #u, nope', ExpressionAttributeNames: { '#u': 'u' } }),
    D('UpdateItem', { TableName: T, Key: k('types'), UpdateExpression: 'SET z = :z', ConditionExpression: 'contains(ns, :n) AND contains(u, :s) AND begins_with(u, :s) AND size(u) = :len AND size(ss) = :two AND attribute_type(bs, :bs)', ExpressionAttributeValues: { ':z': { N: '0' }, ':n': { N: '2.5' }, ':s': { S: '日' }, ':len': { N: '10' }, ':two': { N: '2' }, ':bs': { S: 'BS' } }, ReturnValues: 'UPDATED_NEW' }),
    D('UpdateItem', { TableName: T, Key: k('types'), UpdateExpression: 'ADD ns :n', ExpressionAttributeValues: { ':n': { NS: ['3', '1.0'] } }, ReturnValues: 'UPDATED_NEW' }),
    D('UpdateItem', { TableName: T, Key: k('types'), UpdateExpression: 'SET z = :z', ConditionExpression: 'u > :s', ExpressionAttributeValues: { ':z': { N: '0' }, ':s': { S: '日本\uffff' } } }),
    D('TransactWriteItems', { TransactItems: [{ Put: { TableName: T, Item: k('t', '9') } }], ClientRequestToken: `token-${suffix}`, ...cc }),
    D('TransactWriteItems', { TransactItems: [{ Put: { TableName: T, Item: k('t', '9') } }], ClientRequestToken: `token-${suffix}`, ...cc }),
    D('TransactWriteItems', { TransactItems: [{ Put: { TableName: T, Item: k('t', '10') } }], ClientRequestToken: `token-${suffix}` }),
  );
  for (const n of ['0', '-1', '123456', '0.001', '-12.5', '100', '10', '1e-5', '99999999999999999999999999999999999999', '-0.000']) steps.push(D('PutItem', { TableName: T, Item: { ...k('num'), [`n${n.length}`]: { N: n } } }));

  const out: string[] = [];
  const call = async (target: string, body: unknown) => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target, authorization: 'AWS4-HMAC-SHA256 Credential=X/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: JSON.parse((await res.text()) || '{}') as Record<string, any> };
  };
  const record = (label: string, answer: unknown) => out.push(`${label} -> ${JSON.stringify(normalize(answer)).replaceAll(suffix, '*')}`);
  for (const [target, body] of steps) {
    const { status, json } = await call(target, body);
    // A Scan's order is the server's own (DynamoDB's follows hashes of the partition keys).
    if (target.endsWith('.Scan') && Array.isArray(json.Items)) json.Items.sort((a: unknown, b: unknown) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    record(`${target.split('.')[1]} ${JSON.stringify(body).replaceAll(suffix, '*').slice(0, 200)}`, { status, ...json });
  }
  const streams = (op: string, body: unknown) => call(`DynamoDBStreams_20120810.${op}`, body).then((r) => r.json);
  const arn = (await call('DynamoDB_20120810.DescribeTable', { TableName: T })).json.Table.LatestStreamArn;
  const stream = (await streams('DescribeStream', { StreamArn: arn })).StreamDescription;
  record('DescribeStream', stream);
  const ShardId = stream.Shards[0].ShardId;
  const iterator = async (ShardIteratorType: string, SequenceNumber?: string) => (await streams('GetShardIterator', { StreamArn: arn, ShardId, ShardIteratorType, SequenceNumber })).ShardIterator;
  const first = await streams('GetRecords', { ShardIterator: await iterator('TRIM_HORIZON'), Limit: 3 });
  const rest = await streams('GetRecords', { ShardIterator: first.NextShardIterator });
  const all = [...first.Records, ...rest.Records];
  all.forEach((r, i) => record(`record ${i}`, r));
  const sequence: string[] = all.map((r) => r.dynamodb.SequenceNumber);
  record('sequence numbers increase', sequence.every((s, i) => i === 0 || (s.length === sequence[i - 1]!.length && s > sequence[i - 1]!)));
  record('AFTER_SEQUENCE_NUMBER', await streams('GetRecords', { ShardIterator: await iterator('AFTER_SEQUENCE_NUMBER', sequence.at(-2)) }));
  record('AT_SEQUENCE_NUMBER', await streams('GetRecords', { ShardIterator: await iterator('AT_SEQUENCE_NUMBER', sequence.at(-1)) }));
  const latest = await iterator('LATEST');
  await call('DynamoDB_20120810.PutItem', { TableName: T, Item: k('late') });
  record('LATEST', await streams('GetRecords', { ShardIterator: latest }));
  record('unknown shard', await call('DynamoDBStreams_20120810.GetShardIterator', { StreamArn: arn, ShardId: 'shardId-x', ShardIteratorType: 'LATEST' }));
  record('unknown iterator', await call('DynamoDBStreams_20120810.GetRecords', { ShardIterator: 'nope' }));
  return out;
}
