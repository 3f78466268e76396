export { asUpkeep, StoreUnavailableError } from './store-unavailable.error.js';
export { type Clock, systemClock, ManualClock } from './clock.js';
export {
  type ConnectSessionStore,
  type ConnectSessionItem,
  type ConnectSessionChange,
  type UserIndexEntry,
  DELETED_SESSION_MARK_MS,
  userIndexMember,
  userIndexEntryOf,
  UserIndexFullError,
  SessionItemTooLargeError,
} from './connect-session-store.port.js';
export type { SessionRecord, SessionUser } from './session-record.js';
export { type SessionStore, type SessionExtension, type RegisterEntry, type RegisterOutcome, type EndOptions, type EndedSession, cleanUpRegister, type RegisterCleanupSteps, registerOutcome } from './session-store.port.js';
export type { SessionData, SessionDataStore } from './session-data-store.port.js';
export type { UserRecord, UserStore } from './user-store.port.js';
export type { LoginAttemptStore } from './login-attempt-store.port.js';
export { effectiveExpiry } from './session-expiry.js';
export { endedByUser } from './ended-by-user.js';
export { endingCall, endingDeletedData } from './ending-call.js';
export { EmailTakenError } from './email-taken.error.js';
export { addressOf, withoutPort } from './forwarded-address.js';
export { withRequestDeadline, requestDeadline, RequestDeadlineError } from './request-deadline.js';
export { statusTitle } from './status-title.js';
