export type { SessionData, SessionDataStore } from '@kura/common';

/** Nest injection token for the configured {@link SessionDataStore}. */
export const SESSION_DATA_STORE = Symbol('kura:session-data-store');
