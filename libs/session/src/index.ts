/**
 * @kura/session — the session core: token issue and check, lifecycle and expiry rules, the storage port,
 * and the Nest module, guard and decorators. Storage-agnostic: adapters implement `SessionStore`.
 * Platform-neutral: works on @nestjs/platform-fastify and @nestjs/platform-express, with no cookie plugin.
 */
export { SessionModule, type SessionModuleAsyncOptions } from './session.module.js';
export {
  type SessionModuleOptions,
  type SessionCookieOptions,
  type SessionSettings,
  SESSION_SETTINGS,
  resolveSessionSettings,
  isValidCookieName,
  isOrigin,
  refreshIntervalSecondsFor,
  cacheKeySecretProblem,
} from './session.options.js';
export { SessionService, type AuthenticateOptions, type CreateSessionOptions, MAX_SESSION_USER_FIELD_BYTES } from './session.service.js';
export { SessionDataService, type SessionDataPrecondition } from './session-data.service.js';
export { SessionCache, type SessionCacheKey } from './session-cache.js';
export { type SessionDataStore, type SessionData, SESSION_DATA_STORE } from './session-data-store.port.js';
export { applyMergePatch } from './merge-patch.js';
export { SESSION_DATA_MAX_DEPTH } from './session-data-patch.js';
export {
  SessionTransport,
  CACHE_HEADER,
  type CookieSpec,
  type PresentedSession,
  type TokenSource,
  type TransportKind,
} from './session-transport.js';
export { SessionGuard, CacheableSession, WithSessionData, type CookieReply, transportOf } from './session.guard.js';
export { CrossSiteRequestGuard, type CrossSiteSource, crossSiteReason } from './cross-site-request.guard.js';
export { CurrentSession, ResponseCookies, type ResponseCookieJar } from './session.decorators.js';
export {
  type HttpRequestLike,
  type HttpResponseLike,
  requestCookies,
  appendCookie,
  setResponseHeader,
  serialiseCookie,
} from './http-exchange.js';
export {
  type SessionStore,
  type SessionExtension,
  type RegisterEntry,
  type RegisterOutcome,
  type EndedSession,
  type EndOptions,
  SESSION_STORE,
} from './session-store.port.js';
export { InMemorySessionStore } from './in-memory-session.store.js';
export {
  SessionRejectedError,
  StaleCredentialsError,
  SessionOptionsError,
  type SessionRejection,
  ReauthenticationRequiredError,
  SessionNotFoundError,
  SessionDataConflictError,
  SessionDataTooLargeError,
  SessionDataContentionError,
  InvalidSessionDataError,
  InvalidSessionUserError,
  CrossSiteRequestError,
} from './session.errors.js';
export { SessionErrorFilter } from './session-error.filter.js';
export { sessionProblemOf, type SessionProblem } from './session-problem.js';
/** What the store throws when it cannot answer: map it to 503 with `Retry-After: retryAfterSeconds`. */
export { StoreUnavailableError } from '@kura/common';
export { generateSessionToken, isWellFormedToken, isWellFormedSessionId, sessionIdOf } from './session-token.js';
export {
  type SessionRecord,
  type SessionUser,
  type SessionView,
  type SessionEvent,
  type ClientInfo,
  type IssuedSession,
  type AuthenticatedSession,
  toSessionView,
  effectiveExpiry,
  dataIdOf,
} from './session.types.js';
