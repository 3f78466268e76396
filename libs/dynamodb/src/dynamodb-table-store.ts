import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StoreUnavailableError } from '@kura/common';
import { type StoreErrorWording, storeUnavailable } from './dynamodb-errors.js';

/**
 * What the stores that keep one kind of item in one table share (users, failed-login counters, session data):
 * the document client, the table, and how a failure becomes `StoreUnavailableError` in the caller's wording.
 * Not exported from the package: its subclasses are, with this constructor.
 */
export abstract class DynamoDbTableStore {
  constructor(
    protected readonly documents: DynamoDBDocumentClient,
    protected readonly tableName: string,
    /** How failure reasons name their remedies. @default this package's functions and options */
    protected readonly options: { readonly wording?: StoreErrorWording } = {},
  ) {}

  /** A failure as `StoreUnavailableError`, its reason in this store's wording, naming its table (`table kura-users does not exist`). */
  protected unavailable(operation: string, error: unknown, table: string = this.tableName): StoreUnavailableError {
    return storeUnavailable(operation, error, table, this.options.wording);
  }
}
