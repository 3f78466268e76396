import { WeakPasswordError } from './account.errors.js';
import type { PasswordRules } from './password-rules.js';

export interface PasswordPolicyOptions {
  /**
   * Whether the commonly used passwords are refused: the 49,233 of the `passwords-common` list of
   * `@zxcvbn-ts/language-common` (drawn from leaked password corpora), loaded at the first password set, not at
   * startup (`common-passwords.ts`, made from the library by `npm run generate:passwords`).
   * @default true
   */
  commonPasswords?: boolean;
  /** Further passwords to refuse, compared as the common ones are (below). */
  blocklist?: Iterable<string>;
  /**
   * Words of the service itself (its name, its brand, its domain's name), refused as the account's own words are.
   * @default []
   */
  serviceWords?: Iterable<string>;
}

/** Whose password is being set: the words of the account's own that it must not be made of. */
export interface PasswordContext {
  readonly email: string;
  readonly name?: string | null;
}

/** Why a password is refused: a common one, or one made of the account's or the service's own words. */
export type WeakPasswordReason = 'common' | 'context';

/**
 * Which passwords may be set at registration and at a password change (never checked at login: an account whose
 * password became common since keeps working). As NIST SP 800-63B (§3.1.1.2) and OWASP ASVS 5.0 (6.2.4, 6.2.11)
 * ask, a new password is compared with commonly used ones and with context-specific words, and nothing else: no
 * composition rule, no forced rotation. Compared case-insensitively, in NFKC (fullwidth `ｐａｓｓｗｏｒｄ` is
 * `password`), and with what surrounds its letters left out (`Password2024!` is `password`, the way such
 * passwords are guessed first). Refused too: one character repeated, and the account's email, its part before `@`
 * (and that part's words, separated by `.`, `_`, `+` or `-`), the account's name and the service's words, alone or
 * with digits and symbols around them.
 */
export class PasswordPolicy {
  private rules?: Promise<PasswordRules>;

  constructor(private readonly options: PasswordPolicyOptions = {}) {}

  /** Throws `WeakPasswordError` (naming `field`, the input that carried the password) when `password` may not be set. */
  async check(password: string, context: PasswordContext, field: string): Promise<void> {
    const reason = await this.weakness(password, context);
    if (reason) throw new WeakPasswordError(reason, field);
  }

  /** Why `password` may not be set, or `undefined` when it may. */
  async weakness(password: string, context: PasswordContext): Promise<WeakPasswordReason | undefined> {
    return (await this.loaded()).weakness(password, context);
  }

  private loaded(): Promise<PasswordRules> {
    // Imported when first needed, the rules with the list they search: a cold start (a Lambda's, a login-only
    // replica's) loads neither. A failed import is not remembered, so the next password set tries again.
    this.rules ??= import('./password-rules.js').then(
      ({ PasswordRules }) => new PasswordRules(this.options),
      (error: unknown) => {
        this.rules = undefined;
        throw error;
      },
    );
    return this.rules;
  }
}
