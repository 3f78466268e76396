import { createHmac, randomBytes } from 'node:crypto';
import { ManualClock } from '@kura/common';
import { base64url, decodeJwt, decodeProtectedHeader, errors, type JWTHeaderParameters, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { InMemorySessionStore } from './in-memory-session.store.js';
import { resolveSessionSettings } from './session.options.js';
import { effectiveExpiry, type SessionRecord } from './session.types.js';
import { SessionCache, type SessionCacheKey } from './session-cache.js';
import { generateSessionToken, sessionIdOf } from './session-token.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const TTL_SECONDS = 60;

const k1: SessionCacheKey = { kid: 'k1', secret: new Uint8Array(randomBytes(32)) };
const k2: SessionCacheKey = { kid: 'k2', secret: new Uint8Array(randomBytes(32)) };

function setup(options: { keys?: SessionCacheKey[]; ttlSeconds?: number; clock?: ManualClock } = {}) {
  const clock = options.clock ?? new ManualClock();
  const settings = resolveSessionSettings({
    store: new InMemorySessionStore(),
    clock,
    cache: { ttlSeconds: options.ttlSeconds ?? TTL_SECONDS, keys: options.keys ?? [k1] },
  });
  return { sut: new SessionCache(settings), clock };
}

/** A live session as the store would return it at `now`. */
function sessionAt(now: number, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: sessionIdOf(generateSessionToken()),
    user: { id: 'u-1', email: 'ada@example.com', name: 'Ada' },
    createdAt: now - 10 * MINUTE,
    lastSeenAt: now - MINUTE,
    idleExpiresAt: now + 29 * MINUTE,
    absoluteExpiresAt: now + 7 * HOUR,
    ...overrides,
  };
}

/** A genuine cache token and its parts, to forge variants from. */
async function genuine(sut: SessionCache, record: SessionRecord) {
  const { jws } = await sut.issue(record);
  return { jws, header: decodeProtectedHeader(jws) as JWTHeaderParameters, claims: decodeJwt(jws) };
}

/** Signs any header and claims with any secret, the way an attacker or a misconfigured peer could. */
function sign(claims: JWTPayload, header: JWTHeaderParameters, secret: Uint8Array): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(header).sign(secret);
}

const encode = (value: object) => base64url.encode(JSON.stringify(value));

describe('SessionCache', () => {
  describe('when configured', () => {
    it('vouches for exactly the session it was issued for', async () => {
      const { sut, clock } = setup();
      const record = sessionAt(clock.now());
      const { jws } = await sut.issue(record);

      expect(sut.enabled).toBe(true);
      expect(sut.verify(jws, record.id)).toEqual(record);
    });

    it('returns the user as captured, including a user without a name', async () => {
      const { sut, clock } = setup();
      const record = sessionAt(clock.now(), { user: { id: 'u-2', email: 'grace@example.com', name: null } });
      const { jws } = await sut.issue(record);

      expect(sut.verify(jws, record.id)).toEqual(record);
    });

    it('returns a user without an email as captured', async () => {
      const { sut, clock } = setup();
      const record = sessionAt(clock.now(), { user: { id: 'app-user-7', name: null } });
      const { jws } = await sut.issue(record);

      expect(decodeJwt(jws)).not.toHaveProperty('email');
      expect(sut.verify(jws, record.id)).toEqual(record);
    });

    it('is accepted only for the session id it names', async () => {
      const { sut, clock } = setup();
      const mine = sessionAt(clock.now());
      const other = sessionAt(clock.now());
      const { jws } = await sut.issue(mine);

      expect(sut.verify(jws, other.id)).toBeUndefined();
      expect(sut.verify(jws, '')).toBeUndefined();
    });

    it.each([
      ['no token', undefined],
      ['an empty token', ''],
      ['garbage', 'not-a-jws'],
      ['three empty parts', '..'],
    ])('answers %s with "ask the store", never with an error', async (_case, jws) => {
      const { sut, clock } = setup();

      expect(sut.verify(jws, sessionAt(clock.now()).id)).toBeUndefined();
    });
  });

  describe('when not configured', () => {
    it('is off and vouches for nothing, even a token that another replica signed', async () => {
      const clock = new ManualClock();
      const off = new SessionCache(resolveSessionSettings({ store: new InMemorySessionStore(), clock }));
      const record = sessionAt(clock.now());
      const { jws } = await setup({ clock }).sut.issue(record);

      expect(off.enabled).toBe(false);
      expect(off.verify(jws, record.id)).toBeUndefined();
    });
  });

  describe('the token', () => {
    it('is an HS256 JWS of its own type, naming its key', async () => {
      const { sut, clock } = setup();
      const { header } = await genuine(sut, sessionAt(clock.now()));

      expect(header).toEqual({ alg: 'HS256', kid: 'k1', typ: 'kura-session-cache+jwt' });
    });

    it('records when it was issued (in whole seconds)', async () => {
      const { sut, clock } = setup();
      clock.advance(1500);
      const { claims } = await genuine(sut, sessionAt(clock.now()));

      expect(claims.iat).toBe(Math.floor(clock.now() / SECOND));
    });
  });

  describe('refuses a forged or altered token', () => {
    it('(while a genuine token re-signed unchanged with its key is accepted: each forgery below differs in one thing)', async () => {
      const { sut, clock } = setup();
      const record = sessionAt(clock.now());
      const { header, claims } = await genuine(sut, record);

      expect(sut.verify(await sign(claims, header, k1.secret), record.id)).toEqual(record);
    });

    it.each([
      ['another user', { sub: 'u-admin' }],
      ['a later absolute expiry', { ae: Date.UTC(2099, 0, 1) }],
      ['a later idle expiry', { ie: Date.UTC(2099, 0, 1) }],
      ['a later exp', { exp: Math.floor(Date.UTC(2099, 0, 1) / SECOND) }],
      ['another email', { email: 'mallory@example.com' }],
    ])('whose payload was changed to claim %s', async (_case, change) => {
      const { sut, clock } = setup();
      const record = sessionAt(clock.now());
      const { jws, claims } = await genuine(sut, record);
      const [header, , signature] = jws.split('.');

      const tampered = `${header}.${encode({ ...claims, ...change })}.${signature}`;

      expect(sut.verify(tampered, record.id)).toBeUndefined();
    });

    it('whose payload was changed after the genuine token was accepted and remembered (same signature)', async () => {
      const { sut, clock } = setup();
      const record = sessionAt(clock.now());
      const { jws, claims } = await genuine(sut, record);
      const [header, , signature] = jws.split('.');
      expect(sut.verify(jws, record.id)).toEqual(record);

      const tampered = `${header}.${encode({ ...claims, sub: 'u-admin' })}.${signature}`;

      expect(sut.verify(tampered, record.id)).toBeUndefined();
      expect(sut.verify(jws, record.id)).toEqual(record);
    });

    it('whose signature was changed', async () => {
      const { sut, clock } = setup();
      const record = sessionAt(clock.now());
      const { jws } = await genuine(sut, record);
      const [header, payload, signature] = jws.split('.') as [string, string, string];
      const flipped = base64url.decode(signature).map((byte, index) => (index === 0 ? byte ^ 1 : byte));

      expect(sut.verify(`${header}.${payload}.${base64url.encode(flipped)}`, record.id)).toBeUndefined();
    });

    it('signed with a key id it does not know', async () => {
      const { sut, clock } = setup();
      const record = sessionAt(clock.now());
      const { header, claims } = await genuine(sut, record);

      const forged = await sign(claims, { ...header, kid: 'k-unknown' }, new Uint8Array(32).fill(9));

      expect(sut.verify(forged, record.id)).toBeUndefined();
    });

    it('without a key id', async () => {
      const { sut, clock } = setup();
      const record = sessionAt(clock.now());
      const { header, claims } = await genuine(sut, record);
      const { kid: _kid, ...withoutKid } = header;

      expect(sut.verify(await sign(claims, withoutKid, k1.secret), record.id)).toBeUndefined();
    });

    it('naming a known key but signed with another secret', async () => {
      const { sut, clock } = setup();
      const record = sessionAt(clock.now());
      const { header, claims } = await genuine(sut, record);

      expect(sut.verify(await sign(claims, header, new Uint8Array(32).fill(9)), record.id)).toBeUndefined();
    });

    it('with the algorithm "none"', async () => {
      const { sut, clock } = setup();
      const record = sessionAt(clock.now());
      const { header, claims } = await genuine(sut, record);

      const unsecured = `${encode({ ...header, alg: 'none' })}.${encode(claims)}.`;

      expect(sut.verify(unsecured, record.id)).toBeUndefined();
    });

    it.each(['HS384', 'HS512'])('signed with the right key but the algorithm %s', async (alg) => {
      const { sut, clock } = setup();
      const record = sessionAt(clock.now());
      const { header, claims } = await genuine(sut, record);

      expect(sut.verify(await sign(claims, { ...header, alg }, k1.secret), record.id)).toBeUndefined();
    });

    it.each([
      ['a generic JWT', 'JWT'],
      ['an access token', 'at+jwt'],
      ['no', undefined],
    ])('signed with the right key but typed as %s', async (_case, typ) => {
      const { sut, clock } = setup();
      const record = sessionAt(clock.now());
      const { header, claims } = await genuine(sut, record);
      const { typ: _typ, ...untyped } = header;

      const retyped = await sign(claims, typ === undefined ? untyped : { ...untyped, typ }, k1.secret);

      expect(sut.verify(retyped, record.id)).toBeUndefined();
    });

    it.each(['exp', 'iat', 'sid', 'sub'])('signed with the right key but without %p', async (claim) => {
      const { sut, clock } = setup();
      const record = sessionAt(clock.now());
      const { header, claims } = await genuine(sut, record);
      const { [claim]: _removed, ...rest } = claims;

      expect(sut.verify(await sign(rest, header, k1.secret), record.id)).toBeUndefined();
    });

    it('signed with the right key for a session that had already expired', async () => {
      const { sut, clock } = setup();
      const now = clock.now();
      const record = sessionAt(now);
      const { header, claims } = await genuine(sut, record);

      const idleExpired = await sign({ ...claims, ie: now - SECOND }, header, k1.secret);
      const absoluteExpired = await sign({ ...claims, ae: now }, header, k1.secret);

      expect(sut.verify(idleExpired, record.id)).toBeUndefined();
      expect(sut.verify(absoluteExpired, record.id)).toBeUndefined();
    });
  });

  describe('lifetime', () => {
    const now = new ManualClock().now();

    it.each([
      ['the ttl, for a session that outlives it', {}, now + TTL_SECONDS * SECOND],
      ['the idle expiry, when it comes first', { idleExpiresAt: now + 20 * SECOND }, now + 20 * SECOND],
      [
        'the absolute expiry, when it comes first',
        { idleExpiresAt: now + 30 * SECOND, absoluteExpiresAt: now + 10 * SECOND },
        now + 10 * SECOND,
      ],
      ['the last whole second before the session expires', { idleExpiresAt: now + 20_500 }, now + 20 * SECOND],
    ])('ends at %s', async (_case, overrides, expected) => {
      const { sut } = setup();
      const record = sessionAt(now, overrides);

      const { jws, expiresAt } = await sut.issue(record);

      expect(expiresAt).toBe(expected);
      expect(decodeJwt(jws).exp).toBe(expiresAt / SECOND);
      expect(expiresAt).toBeLessThanOrEqual(now + TTL_SECONDS * SECOND);
      expect(expiresAt).toBeLessThanOrEqual(effectiveExpiry(record));
    });

    it('is accepted until it expires by the configured clock, and not from then on', async () => {
      const { sut, clock } = setup();
      const record = sessionAt(clock.now());
      const { jws, expiresAt } = await sut.issue(record);

      clock.advance(expiresAt - clock.now() - 1);
      expect(sut.verify(jws, record.id)).toEqual(record);

      clock.advance(1);
      expect(sut.verify(jws, record.id)).toBeUndefined();
    });

    it('is never accepted after the session it names has expired', async () => {
      const { sut, clock } = setup();
      const record = sessionAt(clock.now(), { idleExpiresAt: clock.now() + 20_500 });
      const { jws } = await sut.issue(record);

      clock.advance(20_500);

      expect(sut.verify(jws, record.id)).toBeUndefined();
    });
  });

  describe('key rotation', () => {
    it('signs with the first key', async () => {
      const { sut, clock } = setup({ keys: [k2, k1] });

      const { header } = await genuine(sut, sessionAt(clock.now()));

      expect(header.kid).toBe('k2');
    });

    it('verifies with every listed key, so tokens signed before a rotation stay valid', async () => {
      const clock = new ManualClock();
      const before = setup({ keys: [k1], clock }).sut;
      const after = setup({ keys: [k2, k1], clock }).sut;
      const record = sessionAt(clock.now());

      const { jws: old } = await before.issue(record);
      const { jws: fresh } = await after.issue(record);

      expect(await after.verify(old, record.id)).toEqual(record);
      expect(await after.verify(fresh, record.id)).toEqual(record);
    });

    it('refuses tokens of a key that is no longer listed', async () => {
      const clock = new ManualClock();
      const record = sessionAt(clock.now());
      const { jws } = await setup({ keys: [k1], clock }).sut.issue(record);

      const retired = setup({ keys: [k2], clock }).sut;

      expect(await retired.verify(jws, record.id)).toBeUndefined();
    });

    it('checks the signature with the key the token names, not with any listed key', async () => {
      const { sut, clock } = setup({ keys: [k1, k2] });
      const record = sessionAt(clock.now());
      const { header, claims } = await genuine(sut, record);

      const mislabelled = await sign(claims, { ...header, kid: 'k1' }, k2.secret);

      expect(sut.verify(mislabelled, record.id)).toBeUndefined();
    });
  });
});

/** A compact JWS signed directly (jose refuses to sign some of these headers). */
function rawSigned(header: object, claims: object, secret: Uint8Array): string {
  const input = `${encode(header)}.${encode(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

describe('the hand-written verification (node:crypto, for speed)', () => {
  /** What jose's own jwtVerify says of a token, with the options the cache used to give it. */
  async function joseAccepts(jws: string, keys: SessionCacheKey[], now: number): Promise<boolean> {
    const key = (header: { kid?: string }) => {
      const found = keys.find((candidate) => candidate.kid === header.kid);
      if (!found) throw new errors.JWKSNoMatchingKey();
      return found.secret;
    };
    return jwtVerify(jws, key, { algorithms: ['HS256'], typ: 'kura-session-cache+jwt', requiredClaims: ['exp', 'iat', 'sid', 'sub'], currentDate: new Date(now) }).then(
      () => true,
      () => false,
    );
  }

  it('agrees with jose on genuine, altered and forged tokens', async () => {
    const { sut, clock } = setup({ keys: [k1, k2] });
    const now = clock.now();
    const record = sessionAt(now);
    const { jws, header, claims } = await genuine(sut, record);
    const [h, p, sig] = jws.split('.') as [string, string, string];
    const seconds = Math.floor(now / SECOND);
    const flipped = base64url.encode(base64url.decode(sig).map((byte, index) => (index === 5 ? byte ^ 0x10 : byte)));
    const corpus: [string, string][] = [
      ['genuine', jws],
      ['signed by the second key', await sign(claims, { ...header, kid: 'k2' }, k2.secret)],
      ['payload changed', `${h}.${encode({ ...claims, sub: 'u-admin' })}.${sig}`],
      ['signature changed', `${h}.${p}.${flipped}`],
      ['signature cut', `${h}.${p}.${sig.slice(0, -2)}`],
      ['not base64url', `${h}.${p}.${sig.slice(0, -1)}*`],
      ['alg none', `${encode({ ...header, alg: 'none' })}.${p}.`],
      ['HS512', await sign(claims, { ...header, alg: 'HS512' }, k1.secret)],
      ['typ JWT', await sign(claims, { ...header, typ: 'JWT' }, k1.secret)],
      ['unknown kid', await sign(claims, { ...header, kid: 'k9' }, k1.secret)],
      ['crit header', rawSigned({ ...header, crit: ['x'], x: 1 }, claims, k1.secret)],
      ['b64 false', rawSigned({ ...header, b64: false, crit: ['b64'] }, claims, k1.secret)],
      ['typ with application/', rawSigned({ ...header, typ: 'application/kura-session-cache+jwt' }, claims, k1.secret)],
      ['expired', await sign({ ...claims, exp: seconds }, header, k1.secret)],
      ['not yet valid', await sign({ ...claims, nbf: seconds + 10 }, header, k1.secret)],
      ['valid from now', await sign({ ...claims, nbf: seconds }, header, k1.secret)],
      ['exp as text', await sign({ ...claims, exp: String(seconds + 30) } as unknown as JWTPayload, header, k1.secret)],
      ['payload an array', `${h}.${base64url.encode('[1,2]')}.${sig}`],
      ['four parts', `${jws}.x`],
    ];

    for (const [name, token] of corpus) {
      const ours = (sut.verify(token, record.id)) !== undefined;
      expect({ name, ours }).toEqual({ name, ours: await joseAccepts(token, [k1, k2], now) });
    }
    expect((sut.verify(jws, record.id)) !== undefined).toBe(true);
  });
});

