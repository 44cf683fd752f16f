import { tableNotFound, validation } from './errors.js';
import type { MemoryTable } from './table.js';

/** Everything the server holds: its tables (each with its indexes and stream). */
export class Database {
  readonly tables = new Map<string, MemoryTable>();
  /** TransactWriteItems' ClientRequestToken: answers kept for 10 minutes, as DynamoDB keeps them. */
  readonly transactions = new Map<string, { request: string; at: number; answer: object }>();

  table(name: unknown): MemoryTable {
    if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(name)) {
      throw validation("Invalid table/index name.  Table/index names must be between 3 and 255 characters long, and may contain only the characters a-z, A-Z, 0-9, '_', '-', and '.'");
    }
    const table = this.tables.get(name);
    if (!table) throw tableNotFound();
    return table;
  }
}
