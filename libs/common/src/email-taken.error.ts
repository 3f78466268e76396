import { recognisedAcrossCopies } from './across-copies.js';
/**
 * Registration with an email that already has an account. Mapped to 409. The `UserStore` port's error (see
 * `@kura/accounts`, which exports it too), defined here so that storage adapters throw it without loading the
 * accounts module, and NestJS with it.
 */
export class EmailTakenError extends Error {
  override readonly name = 'EmailTakenError';

  constructor() {
    super('An account with this email already exists');
  }
}
recognisedAcrossCopies(EmailTakenError, 'EmailTakenError');
