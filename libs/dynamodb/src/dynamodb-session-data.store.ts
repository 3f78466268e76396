import { randomBytes } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type AttributeValue, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { SessionData, SessionDataStore } from '@kura/common';
import { isConditionalCheckFailure } from './dynamodb-errors.js';
import { DynamoDbTableStore } from './dynamodb-table-store.js';
import { itemKeys } from './state-table-keys.js';

/**
 * Session data as its own item next to the session (`data#<session id>`), so authenticating a request never
 * pays to read it. The document is kept as a JSON string: exactly what was written comes back, and its size
 * is what the limit counts. Writes are conditional on the version read: a concurrent write makes them fail.
 * Each write leaves a random write id in the slot of the version it makes (`w0`..`w3`, by version), so a write
 * whose answer was lost and that the SDK sent again knows its own write when the retry fails its condition (not
 * a conflict: it already happened), even after up to three later writes (the review of 2026-12-02 had another
 * patch land between the lost answer and the retry: the write was reported failed, and merged again on top).
 */
export class DynamoDbSessionDataStore extends DynamoDbTableStore implements SessionDataStore {
  /** Whether this store's items are in `tableName` through `documents` (so a session store there can read them). */
  keepsItemsIn(documents: DynamoDBDocumentClient, tableName: string): boolean {
    return documents === this.documents && tableName === this.tableName;
  }

  async read(sessionId: string): Promise<SessionData> {
    return sessionDataOf(await this.item(sessionId, 'sessionData.read'));
  }

  async write(sessionId: string, data: Record<string, unknown>, expectedVersion: number, expiresAt: number): Promise<boolean> {
    const writeId = randomBytes(12).toString('base64url');
    const slot = writeSlotOf(expectedVersion + 1);
    try {
      // Every patch's write: the low-level command with the values spelled out, without the document client's
      // generic marshalling (as the session read does). An update, so the other write slots stay. The expiry is
      // set by the write that creates the document, and after that only moved forward by `retain`: a patch
      // authenticated by a session that a re-authentication has since replaced would otherwise bring it back to the
      // old session's end (the review of 2026-12-05). The first version's write also takes the empty version 0
      // `retain` may have created, keeping its expiry (`if_not_exists`).
      const creates = expectedVersion === 0;
      await this.documents.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { id: { S: itemKeys.data(sessionId) } },
          UpdateExpression: `SET #document = :document, #version = :next, #slot = :writeId${creates ? ', #expiresAt = if_not_exists(#expiresAt, :ttl)' : ''}`,
          ConditionExpression: creates ? 'attribute_not_exists(id) OR #version = :expected' : '#version = :expected',
          ExpressionAttributeNames: { '#document': 'document', '#version': 'version', '#slot': slot, ...(creates ? { '#expiresAt': 'expiresAt' } : {}) },
          ExpressionAttributeValues: {
            ':document': { S: JSON.stringify(data) },
            ':next': { N: String(expectedVersion + 1) },
            ':writeId': { S: writeId },
            ':expected': { N: String(expectedVersion) },
            ...(creates ? { ':ttl': { N: String(Math.ceil(expiresAt / 1000)) } } : {}),
          },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw this.unavailable('sessionData.write', error);
    }
    return (await this.item(sessionId, 'sessionData.write'))?.[slot] === writeId;
  }

  async retain(sessionId: string, expiresAt: number): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: itemKeys.data(sessionId) },
          // An absent document is created empty at version 0, which the write of its first version takes as it is.
          ConditionExpression: 'attribute_not_exists(id) OR expiresAt < :ttl',
          UpdateExpression: 'SET expiresAt = :ttl, #document = if_not_exists(#document, :empty), #version = if_not_exists(#version, :zero)',
          ExpressionAttributeNames: { '#document': 'document', '#version': 'version' },
          ExpressionAttributeValues: { ':ttl': Math.ceil(expiresAt / 1000), ':empty': '{}', ':zero': 0 },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
    } catch (error) {
      // One kept long enough already: nothing to do.
      if (!isConditionalCheckFailure(error)) throw this.unavailable('sessionData.retain', error);
    }
  }

  private async item(sessionId: string, operation: string): Promise<DataItem | undefined> {
    try {
      const result = await this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: { id: itemKeys.data(sessionId) }, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' }),
      );
      return result.Item as DataItem | undefined;
    } catch (error) {
      throw this.unavailable(operation, error);
    }
  }
}

interface DataItem {
  document: string;
  version: number;
  /** Write ids by version (`writeSlotOf`). */
  [slot: `w${number}`]: string | undefined;
}

/** How many of the latest writes a document remembers the ids of. */
const WRITE_SLOTS = 4;
/** The attribute holding the id of the write that made `version`. */
const writeSlotOf = (version: number): `w${number}` => `w${version % WRITE_SLOTS}`;

/** The data an item holds (`{}` at version 0 when there is none). */
function sessionDataOf(item: Pick<DataItem, 'document' | 'version'> | undefined): SessionData {
  return item ? { data: JSON.parse(item.document) as Record<string, unknown>, version: item.version } : { data: {}, version: 0 };
}

/** The data a data item holds, read with the low-level client (as `DynamoDbSessionStore.findWithData` does). */
export function sessionDataOfAttributes(raw: Record<string, AttributeValue> | undefined): SessionData {
  const document = raw?.document?.S;
  return sessionDataOf(document === undefined ? undefined : { document, version: Number(raw!.version?.N ?? 0) });
}
