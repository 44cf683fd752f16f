/**
 * Capacity units as DynamoDB counts them: a read is 1 unit per 4 KB (half for an eventually consistent read), a
 * write 1 unit per KB of the larger of the item before and after, each index entry written counts as a write,
 * and transactions count double.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes
 */
export const readUnits = (bytes: number, consistent: boolean | undefined) => Math.ceil(bytes / 4096) * (consistent ? 1 : 0.5);
export const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

/** What a request consumed, per table and index, reported as ReturnConsumedCapacity asks. */
export class Capacity {
  private readonly tables = new Map<string, { table: number; indexes: Map<string, number> }>();

  add(tableName: string, units: number, indexName?: string): void {
    let entry = this.tables.get(tableName);
    if (!entry) this.tables.set(tableName, (entry = { table: 0, indexes: new Map() }));
    if (indexName) entry.indexes.set(indexName, (entry.indexes.get(indexName) ?? 0) + units);
    else entry.table += units;
  }

  /** https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ConsumedCapacity.html */
  report(mode: string | undefined): Record<string, unknown>[] | undefined {
    if (mode !== 'TOTAL' && mode !== 'INDEXES') return undefined;
    return [...this.tables].map(([TableName, { table, indexes }]) => {
      const total = [...indexes.values()].reduce((a, b) => a + b, table);
      if (mode === 'TOTAL') return { TableName, CapacityUnits: total };
      const GlobalSecondaryIndexes = Object.fromEntries([...indexes].map(([name, units]) => [name, { CapacityUnits: units }]));
      return { TableName, CapacityUnits: total, Table: { CapacityUnits: table }, ...(indexes.size > 0 ? { GlobalSecondaryIndexes } : {}) };
    });
  }

  /** For single-table operations: one object, not a list. */
  reportOne(mode: string | undefined): Record<string, unknown> | undefined {
    return this.report(mode)?.[0];
  }
}
