export { StoreUnavailableError } from './store-unavailable.error.js';
export { type Clock, systemClock, ManualClock } from './clock.js';
export type { ConnectSessionStore, ConnectSessionItem, ConnectSessionChange } from './connect-session-store.port.js';
export { effectiveExpiry } from './session-expiry.js';
export { EmailTakenError } from './email-taken.error.js';
