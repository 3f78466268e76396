export type { UserStore } from '@kura/common';

/** Nest injection token for the configured {@link UserStore}. */
export const USER_STORE = Symbol('kura:user-store');
