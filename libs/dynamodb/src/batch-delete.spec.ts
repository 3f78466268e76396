import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '@kura/common';
import { deleteItems } from './batch-delete.js';
import { DynamoDbLoginAttemptStore } from './dynamodb-login-attempt.store.js';

/**
 * DynamoDB may answer a BatchWriteItem with some requests left over (`UnprocessedItems`) under load, which no
 * local engine reproduces on demand: a client double that leaves the first request unprocessed once stands in.
 */
function engineLeavingOneUnprocessed(times = 1) {
  const sent: string[][] = [];
  let left = times;
  const documents = {
    async send(command: BatchWriteCommand) {
      const requests = command.input.RequestItems!.table!;
      sent.push(requests.map((request) => String(request.DeleteRequest!.Key!.id)));
      if (left === 0) return {};
      left -= 1;
      return { UnprocessedItems: { table: requests.slice(0, 1) } };
    },
  } as unknown as DynamoDBDocumentClient;
  return { documents, sent };
}

describe('deleteItems', () => {
  it('sends again what DynamoDB left unprocessed, until nothing is left', async () => {
    const { documents, sent } = engineLeavingOneUnprocessed(2);

    await deleteItems(documents, 'table', ['a', 'b', 'c'], 'test');

    expect(sent).toEqual([['a', 'b', 'c'], ['a'], ['a']]);
  });

  it('splits more than 25 keys into batches of 25', async () => {
    const { documents, sent } = engineLeavingOneUnprocessed(0);

    await deleteItems(documents, 'table', Array.from({ length: 60 }, (_, n) => `k${n}`), 'test');

    expect(sent.map((batch) => batch.length)).toEqual([25, 25, 10]);
  });

  it('gives up with StoreUnavailableError rather than drop a delete silently', async () => {
    const { documents } = engineLeavingOneUnprocessed(99);

    await expect(deleteItems(documents, 'table', ['a'], 'test')).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

describe('DynamoDbLoginAttemptStore.clear', () => {
  it('clears every counter even when DynamoDB leaves some unprocessed (a success must forget the failures)', async () => {
    const { documents, sent } = engineLeavingOneUnprocessed(1);

    await new DynamoDbLoginAttemptStore(documents, 'table').clear(['account:x#1', 'account:x#0']);

    expect(sent).toEqual([['fail#account:x#1', 'fail#account:x#0'], ['fail#account:x#1']]);
  });
});
