import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { createDynamoDbClients } from './dynamodb-client.js';
import { RequestSigningSha256 } from './request-signing-sha256.js';

type Checksum = { update(data: string | Uint8Array): void; digest(): Promise<Uint8Array>; reset(): void };
type Constructor = new (secret?: string | ArrayBuffer | ArrayBufferView) => Checksum;

/** What each implementation answers to the same calls. */
async function answers(Hash: Constructor, secret: string | ArrayBuffer | ArrayBufferView | undefined) {
  const hash = new Hash(secret);
  hash.update('first part, ');
  hash.update(new TextEncoder().encode('second part'));
  const first = Buffer.from(await hash.digest()).toString('hex');
  let again: string;
  try {
    hash.update(' and more');
    again = Buffer.from(await hash.digest()).toString('hex');
  } catch (error) {
    again = (error as Error).message;
  }
  hash.reset();
  hash.update('after a reset');
  return [first, again, Buffer.from(await hash.digest()).toString('hex')];
}

describe('RequestSigningSha256', () => {
  const bytes = new Uint8Array(Array.from({ length: 32 }, (_, i) => i));
  it.each([
    ['a plain hash', undefined],
    ['an HMAC keyed by a string', 'AWS4secret'],
    ['an HMAC keyed by a Uint8Array', bytes],
    ['an HMAC keyed by a view into a larger buffer', new Uint8Array(Buffer.concat([Buffer.from('pad'), Buffer.from(bytes)]).buffer, 3, 32)],
    ['an HMAC keyed by an ArrayBuffer', bytes.slice().buffer],
    ['an HMAC keyed by empty bytes', new Uint8Array(0)],
  ])('answers as the SDK’s own Sha256 for %s', async (_, secret) => {
    expect(await answers(RequestSigningSha256, secret)).toEqual(await answers(Sha256 as unknown as Constructor, secret));
  });

  it('signs a request exactly as the SDK does, twice with the same day’s key', async () => {
    const signer = (sha256: Constructor) =>
      new SignatureV4({ service: 'dynamodb', region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }, sha256 });
    const request = () => ({
      method: 'POST',
      protocol: 'https:',
      hostname: 'dynamodb.eu-west-1.amazonaws.com',
      path: '/',
      headers: { host: 'dynamodb.eu-west-1.amazonaws.com', 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem' },
      body: '{"TableName":"kura-sessions","Key":{"id":{"S":"abc"}},"ConsistentRead":true}',
    });
    const signingDate = new Date('2026-12-01T12:00:00Z');
    const ours = signer(RequestSigningSha256);
    const theirs = signer(Sha256 as unknown as Constructor);
    for (let i = 0; i < 2; i += 1) {
      const signed = await ours.sign(request(), { signingDate });
      expect(signed.headers.authorization).toBe((await theirs.sign(request(), { signingDate })).headers.authorization);
      expect(signed.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261201\/eu-west-1\/dynamodb\/aws4_request, SignedHeaders=.*, Signature=[0-9a-f]{64}$/);
    }
  });

  it('is what Kura’s DynamoDB clients sign with', () => {
    const { client } = createDynamoDbClients({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:1' });
    expect(client.config.sha256).toBe(RequestSigningSha256);
    client.destroy();
  });
});
