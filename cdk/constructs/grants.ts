import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';

/** Least privilege: the item actions a function calls, on this table only (its indexes are granted apart). */
export const tableActions = (table: ITable, ...actions: string[]) =>
  new PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources: [table.tableArn] });
