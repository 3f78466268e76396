import * as z from 'zod';

const email = z.email({ error: 'must be an email address' }).max(254);

export const RegisterBody = z
  .strictObject({
    email,
    password: z.string().min(8, 'must be at least 8 characters').max(128, 'must be at most 128 characters'),
    name: z.string().trim().min(1).max(100).optional(),
  })
  .meta({ id: 'RegisterRequest' });
export type RegisterBody = z.infer<typeof RegisterBody>;

export const LoginBody = z
  .strictObject({
    email,
    password: z.string().min(1).max(128, 'must be at most 128 characters'),
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
    currentPassword: z.string().min(1).max(128, 'must be at most 128 characters'),
    newPassword: z.string().min(8, 'must be at least 8 characters').max(128, 'must be at most 128 characters'),
  })
  .meta({ id: 'PasswordChangeRequest' });
export type PasswordChangeBody = z.infer<typeof PasswordChangeBody>;

export const ReauthenticateBody = z
  .strictObject({ password: z.string().min(1).max(128, 'must be at most 128 characters') })
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
