import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { KEY_PK_PREFIX } from '../../lib/store/table.js';

/** Least privilege: the item actions a function calls, on this table only (its indexes are granted apart). */
export const tableActions = (table: ITable, ...actions: string[]) =>
  new PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources: [table.tableArn] });

/** The partitions of publisher key items (lib/store/table.ts), as IAM's dynamodb:LeadingKeys matches them. */
export const KEY_PARTITIONS = `${KEY_PK_PREFIX}*`;

/**
 * No access to key items for a role that has item actions on the whole table: keys are managed with the operator's
 * own credentials, and only the authorizer reads them (and notes their last use).
 */
export const denyKeyItems = (table: ITable) =>
  new PolicyStatement({
    effect: Effect.DENY,
    actions: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'ConditionCheckItem'].map((a) => `dynamodb:${a}`),
    resources: [table.tableArn],
    conditions: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [KEY_PARTITIONS] } },
  });
