import { isEmailAddress } from '@kura/accounts';
import * as z from 'zod/mini';
import { deferred, described, type Infer } from '../openapi/schema-meta.js';

/**
 * An email address, internationalised ones included (`josé@münchen.de`, `用户@例子.广告`: `isEmailAddress`), at
 * most 254 characters; the API document says `idn-email`, JSON Schema's format for them.
 */
const email = () =>
  z.string().check(z.maxLength(254), z.refine(isEmailAddress, 'must be an email address'), z.meta({ format: 'idn-email', maxLength: 254 }));

/** How `chars` counts, and what the API document says. */
interface CharsOptions {
  /** Every count that must lie within the bounds. Default: the code points as sent, as JSON Schema counts. */
  readonly lengths?: (value: string) => readonly number[];
  /** The document's `maxLength`, when the server counts otherwise (`knownPassword`): the most code points it takes. */
  readonly sentMax?: number;
  readonly description?: string;
}

/**
 * A string of `min` to `max` characters counted as JSON Schema counts them, in Unicode code points (an emoji is
 * one character, as NIST SP 800-63B asks of passwords), where zod's `minLength`/`maxLength` checks count UTF-16
 * units. The API document shows the same `minLength` and `maxLength` (or `sentMax`), so every string the server
 * takes, a client validating with the document takes too (a password is also counted in NFC: `newPassword`).
 * Only well-formed text: a lone surrogate (which JSON's `\ud800` escapes can carry) becomes U+FFFD when a password
 * is encoded for hashing, so every such password of one length was the same password (the review of 2026-12-05).
 */
export function chars(min: number, max: number, { lengths = (value) => [codePoints(value)], sentMax = max, description }: CharsOptions = {}) {
  return z
    .string()
    .check(
      z.refine((value) => value.isWellFormed(), 'must be well-formed Unicode text (no lone surrogate)'),
      z.refine((value) => lengths(value).every((length) => length >= min), `must be at least ${min} characters`),
      z.refine((value) => lengths(value).every((length) => length <= max), `must be at most ${max} characters`),
      z.meta({ minLength: min, maxLength: sentMax, ...(description ? { description } : {}) }),
    );
}

function codePoints(value: string): number {
  return [...value].length;
}

const nfcLength = (value: string) => codePoints(value.normalize('NFC'));

/**
 * The most code points one character in NFC is sent as: its canonical decomposition (NFD), 4 at most (U+1F82). A
 * string is never longer than its NFD, which is its NFC's, so a password of 128 characters in NFC is sent as 512
 * code points at most, however it is spelled.
 */
const MOST_CODE_POINTS_PER_CHARACTER = 4;

/**
 * A new password (a registration, a change), 8 to 128 characters counted as it is hashed, in NFC
 * (`PasswordHasher`), so that "é" sent composed (one code point) or decomposed ("e" and a combining accent, two)
 * is one character, as it is one password: counted as sent, eight decomposed accented letters passed the minimum
 * of 8 as a password of four characters. And counted as sent too, as the API document's `minLength`/`maxLength`
 * count it: in NFC alone, 200 code points that are 100 in NFC passed the server and were refused by a client
 * validating with the document (the OpenAPI review). The same password sent in another spelling later, at a
 * login, is taken (`knownPassword`).
 */
function newPassword(description: string) {
  return chars(8, 128, { lengths: (value) => [codePoints(value), nfcLength(value)], description });
}

/**
 * A password checked against an account's (a login, a re-authentication, the current one of a change): at most 128
 * characters counted in NFC alone, so that no check refuses a password an account has, in whatever spelling the
 * client sends it (one registered composed, sent decomposed). The API document, which cannot count in NFC, says the
 * most code points such a password is sent as.
 */
function knownPassword() {
  return chars(1, 128, {
    lengths: (value) => [nfcLength(value)],
    sentMax: 128 * MOST_CODE_POINTS_PER_CHARACTER,
    description: 'At most 128 characters counted in NFC, as the password is hashed: up to 512 code points as sent.',
  });
}

/** What a new password may not be besides its length, said where a client reads the request's shape. */
const NEW_PASSWORD =
  'Any characters. Refused (400, this field named in `errors`): one of about 49,000 commonly used passwords, also with ' +
  "digits or symbols around it, one character repeated, or one made of the account's email or name or of the service's name.";

export const RegisterBody = deferred(() =>
  z
    .strictObject({
      email: email(),
      password: newPassword(NEW_PASSWORD),
      // Checked as sent (the stored name is trimmed): a validator of the API document sees the same limits.
      name: z.optional(chars(1, 100).check(z.regex(/\S/, 'must not be blank'))),
    })
    .register(z.globalRegistry, { id: 'RegisterRequest' }),
);
export type RegisterBody = Infer<typeof RegisterBody>;

export const LoginBody = deferred(() =>
  z
    .strictObject({
      email: email(),
      password: knownPassword(),
      transport: described(
        z._default(z.enum(['cookie', 'bearer']), 'cookie'),
        '`cookie` (default) sets an HttpOnly session cookie; `bearer` returns the token in the body instead.',
      ),
    })
    .register(z.globalRegistry, { id: 'LoginRequest' }),
);
export type LoginBody = Infer<typeof LoginBody>;

/** What the server sends, as it makes it: the limits below hold for every value, not only for new ones. */
const userId = () => z.uuid().check(z.maxLength(36));
const storedName = () => z.nullable(chars(1, 100).check(z.regex(/\S/)));
/** `Date#toISOString()`: 24 characters for every year Kura will see. */
const instant = () => z.iso.datetime().check(z.maxLength(24));
/** 32 random bytes, or a SHA-256 digest, in base64url. */
const base64url256 = () => z.string().check(z.maxLength(43), z.regex(/^[A-Za-z0-9_-]{43}$/));

export const UserResponse = deferred(() =>
  z.object({ id: userId(), email: email(), name: storedName(), createdAt: instant() }).register(z.globalRegistry, { id: 'User' }),
);

const SessionUserResponse = deferred(() =>
  z.object({ id: userId(), email: email(), name: storedName() }).register(z.globalRegistry, { id: 'SessionUser' }),
);

export const SessionResponse = deferred(() =>
  z
    .object({
      id: described(base64url256(), 'Public session id (a hash of the token, never the token itself).'),
      createdAt: instant(),
      expiresAt: described(instant(), 'Absolute expiry: the session ends then, however active.'),
      idleExpiresAt: described(instant(), 'Idle expiry: pushed forward while the session is used.'),
    })
    .register(z.globalRegistry, { id: 'Session' }),
);

export const LoginResponse = deferred(() =>
  z
    .object({
      user: SessionUserResponse.schema,
      session: SessionResponse.schema,
      token: described(z.optional(base64url256()), 'Only with `transport: "bearer"`: send it as `Authorization: Bearer <token>`.'),
    })
    .register(z.globalRegistry, { id: 'LoginResponse' }),
);

export const MeResponse = deferred(() =>
  z.object({ user: SessionUserResponse.schema, session: SessionResponse.schema }).register(z.globalRegistry, { id: 'Me' }),
);

export const PasswordChangeBody = deferred(() =>
  z
    .strictObject({
      currentPassword: knownPassword(),
      newPassword: newPassword(NEW_PASSWORD),
    })
    .register(z.globalRegistry, { id: 'PasswordChangeRequest' }),
);
export type PasswordChangeBody = Infer<typeof PasswordChangeBody>;

export const ReauthenticateBody = deferred(() => z.strictObject({ password: knownPassword() }).register(z.globalRegistry, { id: 'ReauthenticateRequest' }));
export type ReauthenticateBody = Infer<typeof ReauthenticateBody>;

/**
 * The most sessions `GET /auth/sessions` lists: the newest. A user may hold more (every login is one, until it
 * expires); logout-all still ends them all. Bounds what one request reads and sends.
 */
export const SESSION_LIST_LIMIT = 100;

export const SessionListResponse = deferred(() =>
  z
    .object({
      sessions: described(
        z
          .array(
            z.object({
              id: base64url256(),
              createdAt: instant(),
              lastSeenAt: instant(),
              expiresAt: instant(),
              idleExpiresAt: instant(),
              userAgent: described(z.nullable(z.string().check(z.maxLength(256))), 'As the client sent it at login, cut to 256 characters.'),
              ip: described(z.nullable(z.string().check(z.maxLength(45), z.regex(/^[0-9A-Fa-f:.]+$/))), 'The IP address the login came from.'),
              current: described(z.boolean(), 'The session making this request.'),
            }),
          )
          .check(z.maxLength(SESSION_LIST_LIMIT)),
        `The newest ${SESSION_LIST_LIMIT}, the current session always among them.`,
      ),
    })
    .register(z.globalRegistry, { id: 'SessionList' }),
);

export const RevokedResponse = deferred(() =>
  z
    .object({ revoked: z.int32().check(z.minimum(0), z.meta({ format: 'int32', description: 'How many of the sessions were still live.' })) })
    .register(z.globalRegistry, { id: 'Revoked' }),
);
