/**
 * DynamoDB's errors as its JSON 1.0 protocol carries them: a `__type` whose part after '#' names the exception
 * class the SDK throws, a message, and HTTP 400 for the client's faults (500 for ours).
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html
 */
export class DynamoError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** The response body, with the namespaces DynamoDB Local puts in front of the class names. */
  body(): Record<string, unknown> {
    const namespace = this.type === 'ValidationException' ? 'com.amazon.coral.validate' : 'com.amazonaws.dynamodb.v20120810';
    return { __type: `${namespace}#${this.type}`, Message: this.message, ...this.extra };
  }
}

export const validation = (message: string) => new DynamoError('ValidationException', message);

export const invalidParameter = (message: string) => validation(`One or more parameter values were invalid: ${message}`);

export const tableNotFound = () => new DynamoError('ResourceNotFoundException', 'Cannot do operations on a non-existent table');

export const conditionFailed = (item?: Record<string, unknown>) =>
  new DynamoError('ConditionalCheckFailedException', 'The conditional request failed', 400, item ? { Item: item } : {});

export interface CancellationReason {
  Code: string;
  Message?: string;
  Item?: Record<string, unknown>;
}

/** https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html#API_TransactWriteItems_Errors */
export const transactionCanceled = (reasons: CancellationReason[]) =>
  new DynamoError('TransactionCanceledException', `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`, 400, {
    CancellationReasons: reasons,
  });
