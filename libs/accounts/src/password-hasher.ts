import { randomBytes, scrypt as scryptCallback, type ScryptOptions, timingSafeEqual } from 'node:crypto';
import pLimit, { type LimitFunction } from 'p-limit';

export interface PasswordHashingOptions {
  /**
   * scrypt cost as log2(N). OWASP's minimum is 17 (N=2^17, r=8, p=1: 128 MiB and roughly a tenth of a second
   * per hash). Lower it only for tests. Raising it later is safe: a check of a hash made at a lower cost is padded
   * to the work of one at this cost (`verify`), and the account's next login replaces that hash by one at this
   * cost (`needsRehash`; `AccountService`). Lowering it is not: a hash made at a higher cost keeps it (nothing
   * weakens a hash) and takes its own, longer time to check, which tells its account from an unknown email until
   * its password is changed.
   * @default 17
   */
  log2Cost?: number;
  /**
   * Most scrypt computations at once; the rest wait their turn. scrypt runs on libuv's thread pool, which file,
   * DNS and some crypto calls share (an embedded store's disk, the AWS SDK's DNS lookups): a burst of logins
   * that took every thread would starve those calls until they time out. Give it the pool size
   * (`UV_THREADPOOL_SIZE`) less two. It also bounds memory: each computation at cost 17 takes 128 MiB.
   * @default 2 (libuv's default pool of four threads, less two)
   */
  maxConcurrent?: number;
}

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function scrypt(password: string, salt: Buffer, log2Cost: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** log2Cost;
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r };
  return new Promise((resolve, reject) =>
    scryptCallback(password.normalize('NFC'), salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

/**
 * Password hashing with scrypt (Node's own, no native add-on), stored as a PHC string
 * `$scrypt$ln=17,r=8,p=1$<salt>$<hash>` so the cost can change without invalidating existing hashes.
 */
export class PasswordHasher {
  private readonly log2Cost: number;
  private readonly limit: LimitFunction;
  /**
   * What an unknown email's password is checked against: a PHC string at the configured cost whose hash is random
   * bytes, not computed, so that no password matches it and the first unknown email after start-up does not pay
   * for making it: a check against it is one hash, like every other.
   */
  private readonly decoy: string;

  constructor(options: PasswordHashingOptions = {}) {
    this.log2Cost = options.log2Cost ?? 17;
    if (!Number.isInteger(this.log2Cost) || this.log2Cost < 10 || this.log2Cost > 20) {
      throw new RangeError(`log2Cost must be an integer from 10 to 20, got ${this.log2Cost}`);
    }
    const maxConcurrent = options.maxConcurrent ?? 2;
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
      throw new RangeError(`maxConcurrent must be a positive integer, got ${maxConcurrent}`);
    }
    this.limit = pLimit(maxConcurrent);
    this.decoy = `$scrypt$ln=${this.log2Cost},r=${BLOCK_SIZE},p=${PARALLELISM}$${b64(randomBytes(SALT_LENGTH))}$${b64(randomBytes(KEY_LENGTH))}`;
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_LENGTH);
    const key = await this.limit(() => scrypt(password, salt, this.log2Cost, BLOCK_SIZE, PARALLELISM));
    return `$scrypt$ln=${this.log2Cost},r=${BLOCK_SIZE},p=${PARALLELISM}$${b64(salt)}$${b64(key)}`;
  }

  /**
   * Compares in constant time. A malformed stored hash never verifies, after one hash at the configured cost: a
   * closed account holds one (`AccountService.closeAccount`) until it is removed, and a login that answered at
   * once would tell it from an unknown email. A hash made at a lower cost than the configured one (before the
   * cost was raised) is checked at its own cost, then padded with scrypt at 2^ln, 2^(ln+1), ... 2^(cost-1), which
   * add up to 2^cost less 2^ln: right or wrong, the check costs the time and memory of one hash at the configured
   * cost, as the decoy does for an unknown email. The padding assumes the r=8, p=1 Kura writes. A hash made at a
   * higher cost (the cost was lowered) is checked at its own cost, longer than the decoy: padding the decoy to it
   * would slow every unknown email for the sake of a few old accounts, and could not match them all unless they
   * share one cost, so it is left as the cost of lowering the cost.
   */
  async verify(password: string, stored: string): Promise<boolean> {
    const parts = PHC.exec(stored);
    if (!parts) {
      await this.limit(() => scrypt(password, randomBytes(SALT_LENGTH), this.log2Cost, BLOCK_SIZE, PARALLELISM));
      return false;
    }
    const [, ln, r, p, salt, expected] = parts as unknown as [string, string, string, string, string, string];
    const saltBytes = Buffer.from(salt, 'base64');
    // One place in the queue for check and padding, as a check at the configured cost takes: queued apart, the
    // padding would wait behind other logins and take longer under load than the decoy does.
    const key = await this.limit(async () => {
      const computed = await scrypt(password, saltBytes, Number(ln), Number(r), Number(p));
      for (let cost = Number(ln); cost < this.log2Cost; cost += 1) await scrypt(password, saltBytes, cost, BLOCK_SIZE, PARALLELISM);
      return computed;
    });
    const wanted = Buffer.from(expected, 'base64');
    return wanted.length === key.length && timingSafeEqual(wanted, key);
  }

  /**
   * Whether a stored hash, once its password is verified, should be replaced by one made now: it was made at a
   * lower cost than the configured one (the cost was raised since), or with other scrypt parameters than Kura's.
   * Never for a hash at a higher cost (a rehash would weaken it), nor for one that is not a scrypt PHC string (a
   * closed account's mark, which no password verifies).
   */
  needsRehash(stored: string): boolean {
    const parts = PHC.exec(stored);
    if (!parts) return false;
    const [, ln, r, p] = parts.map(Number) as [number, number, number, number];
    return ln < this.log2Cost || (ln === this.log2Cost && (r !== BLOCK_SIZE || p !== PARALLELISM));
  }

  /**
   * Spends the same work as verifying a real password, for logins with an unknown email, so that response
   * time does not tell which emails have accounts: one hash at the configured cost, what `verify` spends on any
   * stored hash made at that cost or below.
   */
  async verifyDecoy(password: string): Promise<false> {
    await this.verify(password, this.decoy);
    return false;
  }
}
