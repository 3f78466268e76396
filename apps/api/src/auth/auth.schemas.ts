import * as z from 'zod';

const email = z.email({ error: 'must be an email address' }).max(254);

/**
 * A string of `min` to `max` characters counted as JSON Schema counts them, in Unicode code points (an emoji is
 * one character, as NIST SP 800-63B asks of passwords), where zod's `.min()`/`.max()` count UTF-16 units. The
 * API document shows the same `minLength`/`maxLength`, so it and the server agree on every string.
 */
function chars(min: number, max: number) {
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

export const UserResponse = z
  .object({ id: z.uuid(), email: z.email(), name: z.string().nullable(), createdAt: z.iso.datetime() })
  .meta({ id: 'User' });

const SessionUserResponse = z
  .object({ id: z.uuid(), email: z.email(), name: z.string().nullable() })
  .meta({ id: 'SessionUser' });

export const SessionResponse = z
  .object({
    id: z.string().describe('Public session id (a hash of the token, never the token itself).'),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime().describe('Absolute expiry: the session ends then, however active.'),
    idleExpiresAt: z.iso.datetime().describe('Idle expiry: pushed forward while the session is used.'),
  })
  .meta({ id: 'Session' });

export const LoginResponse = z
  .object({
    user: SessionUserResponse,
    session: SessionResponse,
    token: z.string().optional().describe('Only with `transport: "bearer"`: send it as `Authorization: Bearer <token>`.'),
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
    sessions: z.array(
      z.object({
        id: z.string(),
        createdAt: z.iso.datetime(),
        lastSeenAt: z.iso.datetime(),
        expiresAt: z.iso.datetime(),
        idleExpiresAt: z.iso.datetime(),
        userAgent: z.string().nullable(),
        ip: z.string().nullable(),
        current: z.boolean().describe('The session making this request.'),
      }),
    ),
  })
  .meta({ id: 'SessionList' });

export const RevokedResponse = z.object({ revoked: z.int().min(0) }).meta({ id: 'Revoked' });
