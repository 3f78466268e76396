export type { SessionStore, SessionExtension, RegisterEntry, RegisterOutcome, EndOptions, EndedSession } from '@kura/common';

/** Nest injection token for the configured {@link SessionStore}. */
export const SESSION_STORE = Symbol('kura:session-store');
