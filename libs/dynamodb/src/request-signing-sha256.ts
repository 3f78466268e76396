import { createHash, createHmac, createSecretKey, type Hash, type Hmac, type KeyObject } from 'node:crypto';

/** What the AWS SDK hands a hash: a string, an ArrayBuffer or a view of one (`SourceData` in @smithy/types). */
type SourceData = string | ArrayBuffer | ArrayBufferView;

const keys = new WeakMap<object, KeyObject>();

/** The HMAC key as Node takes it fastest: a string as it is, bytes as a KeyObject made once per key object. */
function hmacKeyOf(secret: SourceData): string | KeyObject | Buffer {
  if (typeof secret === 'string') return secret;
  let key = keys.get(secret);
  if (!key) {
    const bytes = ArrayBuffer.isView(secret) ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength) : Buffer.from(secret);
    if (bytes.byteLength === 0) return bytes; // a KeyObject cannot be empty; an empty HMAC key is rare and valid
    key = createSecretKey(bytes);
    keys.set(secret, key);
  }
  return key;
}

/**
 * SHA-256 and HMAC-SHA256 for the AWS SDK's request signing: the client's `sha256` option, in place of the SDK's
 * own `Sha256` (@smithy/core), which it matches call for call. The difference is the HMAC key: the SDK gives Node
 * the key's bytes, and Node 24's `createHmac` then asks whether they are a KeyObject and whether they are a
 * CryptoKey by letting two native calls throw and catching the errors (`isKeyObject` and `isCryptoKey` in
 * `internal/crypto/keys`). Measured on Node 24.21: 13.8 µs a call with bytes, 3.4 µs with a KeyObject or a string.
 * Signature V4 signs every request with one HMAC keyed by the day's signing key, which the SDK keeps: its
 * KeyObject is made on the first request of the day and found by the key's identity after that.
 */
export class RequestSigningSha256 {
  readonly digestLength = 32;
  private readonly secret: SourceData | undefined;
  private hash: Hash | Hmac;
  private finished = false;

  constructor(secret?: SourceData) {
    this.secret = secret;
    this.hash = this.start();
  }

  update(data: string | Uint8Array): void {
    if (this.finished) throw new Error('Attempted to update an already finished hash.');
    this.hash.update(data);
  }

  /** The digest; a plain hash can go on being updated after it (as the SDK's), an HMAC cannot. */
  async digest(): Promise<Uint8Array> {
    let digest: Buffer;
    if (this.secret) {
      this.finished = true;
      digest = this.hash.digest();
    } else {
      digest = (this.hash as Hash).copy().digest();
    }
    return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
  }

  reset(): void {
    this.hash = this.start();
    this.finished = false;
  }

  private start(): Hash | Hmac {
    return this.secret ? createHmac('sha256', hmacKeyOf(this.secret)) : createHash('sha256');
  }
}
