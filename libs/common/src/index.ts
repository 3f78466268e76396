export { StoreUnavailableError } from './store-unavailable.error.js';
export { type Clock, systemClock, ManualClock } from './clock.js';
