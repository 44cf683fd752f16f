import type { Database } from './database.js';
import { DynamoError, invalidParameter, validation } from './errors.js';
import { GlobalIndex, type Projection } from './global-index.js';
import { ACCOUNT, REGION, Stream, type StreamViewType } from './streams.js';
import { MemoryTable, type KeyAttribute, type KeySchema } from './table.js';
import type { ScalarType } from './values.js';

type KeySchemaElement = { AttributeName: string; KeyType: 'HASH' | 'RANGE' };
interface CreateTableInput {
  TableName?: string;
  AttributeDefinitions?: { AttributeName: string; AttributeType: ScalarType }[];
  KeySchema?: KeySchemaElement[];
  GlobalSecondaryIndexes?: { IndexName: string; KeySchema: KeySchemaElement[]; Projection?: Projection }[];
  BillingMode?: string;
  ProvisionedThroughput?: unknown;
  StreamSpecification?: { StreamEnabled?: boolean; StreamViewType?: StreamViewType };
}

/** A KeySchema, checked against the AttributeDefinitions. */
function keySchema(elements: KeySchemaElement[] | undefined, types: Map<string, ScalarType>, used: Set<string>): KeySchema {
  const [hash, range, ...rest] = elements ?? [];
  if (!hash || hash.KeyType !== 'HASH' || (range && range.KeyType !== 'RANGE') || rest.length > 0) throw invalidParameter('Invalid KeySchema: the first element must be HASH, an optional second RANGE');
  const attribute = (e: KeySchemaElement): KeyAttribute => {
    const type = types.get(e.AttributeName);
    if (!type) throw invalidParameter(`Some index key attributes are not defined in AttributeDefinitions. Keys: [${e.AttributeName}]`);
    used.add(e.AttributeName);
    return { name: e.AttributeName, type };
  };
  return { hash: attribute(hash), ...(range ? { range: attribute(range) } : {}) };
}

function describe(table: MemoryTable) {
  const d = table.definition as CreateTableInput;
  const arn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table.name}`;
  const billing = d.BillingMode ?? 'PROVISIONED';
  return {
    AttributeDefinitions: d.AttributeDefinitions,
    TableName: table.name,
    KeySchema: d.KeySchema,
    TableStatus: 'ACTIVE',
    CreationDateTime: table.createdAt,
    ProvisionedThroughput: { NumberOfDecreasesToday: 0, ReadCapacityUnits: 0, WriteCapacityUnits: 0, ...(d.ProvisionedThroughput as object) },
    TableSizeBytes: table.sizeBytes,
    ItemCount: table.itemCount,
    TableArn: arn,
    BillingModeSummary: { BillingMode: billing },
    ...(table.indexes.length > 0
      ? {
          GlobalSecondaryIndexes: table.indexes.map((index) => ({
            IndexName: index.name,
            KeySchema: d.GlobalSecondaryIndexes!.find((g) => g.IndexName === index.name)!.KeySchema,
            Projection: index.projection,
            IndexStatus: 'ACTIVE',
            IndexSizeBytes: index.sizeBytes,
            ItemCount: index.itemCount,
            IndexArn: `${arn}/index/${index.name}`,
          })),
        }
      : {}),
    ...(table.stream ? { StreamSpecification: d.StreamSpecification, LatestStreamLabel: table.stream.label, LatestStreamArn: table.stream.arn } : {}),
    DeletionProtectionEnabled: false,
  };
}

/**
 * Tables are ACTIVE as soon as they exist (DynamoDB takes a while; waitUntilTableExists does not mind).
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html
 */
export const tableOperations = {
  CreateTable: (input: CreateTableInput, db: Database) => {
    try {
      db.table(input.TableName);
      throw new DynamoError('ResourceInUseException', 'Cannot create preexisting table');
    } catch (error) {
      if ((error as DynamoError).type !== 'ResourceNotFoundException') throw error;
    }
    const types = new Map((input.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType]));
    if ([...types.values()].some((t) => !['S', 'N', 'B'].includes(t))) throw invalidParameter('Invalid AttributeType: key attributes must be S, N or B');
    if (input.BillingMode !== 'PAY_PER_REQUEST' && !input.ProvisionedThroughput) throw validation('No provisioned throughput specified for the table');
    const used = new Set<string>();
    const schema = keySchema(input.KeySchema, types, used);
    const indexes = (input.GlobalSecondaryIndexes ?? []).map((g) => new GlobalIndex(g.IndexName, keySchema(g.KeySchema, types, used), g.Projection ?? {}, schema));
    if (new Set(indexes.map((i) => i.name)).size !== indexes.length) throw invalidParameter('Duplicate index name');
    if (used.size !== types.size) throw invalidParameter(`Some AttributeDefinitions are not used. AttributeDefinitions: [${[...types.keys()].join(', ')}], keys used: [${[...used].join(', ')}]`);
    const spec = input.StreamSpecification;
    if (spec?.StreamEnabled && !spec.StreamViewType) throw validation('StreamSpecification: StreamViewType is required when streams are enabled');
    const name = input.TableName!;
    const table = new MemoryTable(name, schema, indexes, spec?.StreamEnabled ? new Stream(name, spec.StreamViewType!) : undefined, { ...input });
    db.tables.set(name, table);
    return { TableDescription: describe(table) };
  },

  DescribeTable: (input: { TableName?: string }, db: Database) => ({ Table: describe(db.table(input.TableName)) }),

  DeleteTable: (input: { TableName?: string }, db: Database) => {
    const table = db.table(input.TableName);
    db.tables.delete(table.name);
    return { TableDescription: { ...describe(table), TableStatus: 'DELETING' } };
  },

  ListTables: (input: { ExclusiveStartTableName?: string; Limit?: number }, db: Database) => {
    const names = [...db.tables.keys()].sort().filter((n) => !input.ExclusiveStartTableName || n > input.ExclusiveStartTableName);
    const page = names.slice(0, input.Limit ?? 100);
    return { TableNames: page, ...(page.length < names.length ? { LastEvaluatedTableName: page.at(-1) } : {}) };
  },
};
