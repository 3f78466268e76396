/** @kura/accounts — user registration and credential checks on a storage port. */
export { AccountsModule, type AccountsModuleOptions, type AccountsModuleAsyncOptions } from './accounts.module.js';
export { AccountService, type Registration } from './account.service.js';
export { PasswordHasher, type PasswordHashingOptions } from './password-hasher.js';
export { PasswordPolicy, type PasswordPolicyOptions, type PasswordContext, type WeakPasswordReason } from './password-policy.js';
export { type UserStore, USER_STORE } from './user-store.port.js';
export { InMemoryUserStore } from './in-memory-user.store.js';
export {
  EmailTakenError,
  InvalidCredentialsError,
  ReauthenticationFailedError,
  TooManyLoginAttemptsError,
  TooManyRegistrationsError,
  WeakPasswordError,
} from './account.errors.js';
export { LoginThrottle, type LoginThrottleOptions, type LoginAttempt, type RegistrationAttempt } from './login-throttle.js';
export { type LoginAttemptStore, InMemoryLoginAttemptStore } from './login-attempt-store.port.js';
export { type UserRecord, type PublicUser, type VerifiedUser, toPublicUser, normaliseEmail, isEmailAddress } from './account.types.js';
