import * as z from 'zod';

const email = z.email({ error: 'must be an email address' }).max(254);

/**
 * A string of `min` to `max` characters counted as JSON Schema counts them, in Unicode code points (an emoji is
 * one character, as NIST SP 800-63B asks of passwords), where zod's `.min()`/`.max()` count UTF-16 units. The
 * API document shows the same `minLength`/`maxLength`, so it and the server agree on every string.
 */
export function chars(min: number, max: number) {
  const length = (value: string) => [...value].length;
  return z
    .string()
    .refine((value) => length(value) >= min, `must be at least ${min} characters`)
    .refine((value) => length(value) <= max, `must be at most ${max} characters`)
    .meta({ minLength: min, maxLength: max });
}

export const RegisterBody = z
  .strictObject({
    email,
    password: chars(8, 128),
    // Checked as sent (the stored name is trimmed): a validator of the API document sees the same limits.
    name: chars(1, 100).regex(/\S/, 'must not be blank').optional(),
  })
  .meta({ id: 'RegisterRequest' });
export type RegisterBody = z.infer<typeof RegisterBody>;

export const LoginBody = z
  .strictObject({
    email,
    password: chars(1, 128),
    transport: z
      .enum(['cookie', 'bearer'])
      .default('cookie')
      .describe('`cookie` (default) sets an HttpOnly session cookie; `bearer` returns the token in the body instead.'),
  })
  .meta({ id: 'LoginRequest' });
export type LoginBody = z.infer<typeof LoginBody>;

/** What the server sends, as it makes it: the limits below hold for every value, not only for new ones. */
const userId = z.uuid().max(36);
const storedEmail = z.email().max(254);
const storedName = chars(1, 100).regex(/\S/).nullable();
/** `Date#toISOString()`: 24 characters for every year Kura will see. */
const instant = () => z.iso.datetime().max(24);
/** 32 random bytes, or a SHA-256 digest, in base64url. */
const base64url256 = () => z.string().max(43).regex(/^[A-Za-z0-9_-]{43}$/);

export const UserResponse = z
  .object({ id: userId, email: storedEmail, name: storedName, createdAt: instant() })
  .meta({ id: 'User' });

const SessionUserResponse = z
  .object({ id: userId, email: storedEmail, name: storedName })
  .meta({ id: 'SessionUser' });

export const SessionResponse = z
  .object({
    id: base64url256().describe('Public session id (a hash of the token, never the token itself).'),
    createdAt: instant(),
    expiresAt: instant().describe('Absolute expiry: the session ends then, however active.'),
    idleExpiresAt: instant().describe('Idle expiry: pushed forward while the session is used.'),
  })
  .meta({ id: 'Session' });

export const LoginResponse = z
  .object({
    user: SessionUserResponse,
    session: SessionResponse,
    token: base64url256().optional().describe('Only with `transport: "bearer"`: send it as `Authorization: Bearer <token>`.'),
  })
  .meta({ id: 'LoginResponse' });

export const MeResponse = z.object({ user: SessionUserResponse, session: SessionResponse }).meta({ id: 'Me' });



export const PasswordChangeBody = z
  .strictObject({
    currentPassword: chars(1, 128),
    newPassword: chars(8, 128),
  })
  .meta({ id: 'PasswordChangeRequest' });
export type PasswordChangeBody = z.infer<typeof PasswordChangeBody>;

export const ReauthenticateBody = z
  .strictObject({ password: chars(1, 128) })
  .meta({ id: 'ReauthenticateRequest' });
export type ReauthenticateBody = z.infer<typeof ReauthenticateBody>;

/**
 * The most sessions `GET /auth/sessions` lists: the newest. A user may hold more (every login is one, until it
 * expires); logout-all still ends them all. Bounds what one request reads and sends.
 */
export const SESSION_LIST_LIMIT = 100;

export const SessionListResponse = z
  .object({
    sessions: z
      .array(
        z.object({
          id: base64url256(),
          createdAt: instant(),
          lastSeenAt: instant(),
          expiresAt: instant(),
          idleExpiresAt: instant(),
          userAgent: z.string().max(256).nullable().describe('As the client sent it at login, cut to 256 characters.'),
          ip: z.string().max(45).regex(/^[0-9A-Fa-f:.]+$/).nullable().describe('The IP address the login came from.'),
          current: z.boolean().describe('The session making this request.'),
        }),
      )
      .max(SESSION_LIST_LIMIT)
      .describe(`The newest ${SESSION_LIST_LIMIT}, the current session always among them.`),
  })
  .meta({ id: 'SessionList' });

export const RevokedResponse = z
  .object({ revoked: z.int32().min(0).meta({ format: 'int32' }).describe('How many of the sessions were still live.') })
  .meta({ id: 'Revoked' });
