import { WeakPasswordError } from './account.errors.js';

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

/** A password's letters stripped of whatever digits, symbols and spaces surround them (`Password123!` → `password`). */
const SURROUNDINGS = /^[^\p{L}]+|[^\p{L}]+$/gu;
/** One character over and over (`zzzzzzzz`, `........`): no list holds every one of them. */
const ONE_CHARACTER = /^(.)\1*$/su;

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
  private common?: Promise<SortedLines>;
  private readonly blocklist: ReadonlySet<string>;
  private readonly serviceWords: readonly string[];

  constructor(private readonly options: PasswordPolicyOptions = {}) {
    this.blocklist = new Set([...(options.blocklist ?? [])].map(fold));
    this.serviceWords = [...(options.serviceWords ?? [])].map(fold).filter(Boolean);
  }

  /** Throws `WeakPasswordError` (naming `field`, the input that carried the password) when `password` may not be set. */
  async check(password: string, context: PasswordContext, field: string): Promise<void> {
    const reason = await this.weakness(password, context);
    if (reason) throw new WeakPasswordError(reason, field);
  }

  /** Why `password` may not be set, or `undefined` when it may. */
  async weakness(password: string, context: PasswordContext): Promise<WeakPasswordReason | undefined> {
    const folded = fold(password);
    const core = folded.replace(SURROUNDINGS, '');
    if (ONE_CHARACTER.test(folded)) return 'common';
    const contextWords = [...wordsOf(context), ...this.serviceWords];
    if (contextWords.includes(folded) || (core && contextWords.includes(core))) return 'context';
    const known = (list: { has(word: string): boolean }) => list.has(folded) || (core !== '' && list.has(core));
    if (known(this.blocklist)) return 'common';
    if (this.options.commonPasswords !== false && known(await this.commonPasswords())) return 'common';
    return undefined;
  }

  /** Loads the common passwords now rather than at the first password set (e.g. at startup, where that is free). */
  async load(): Promise<void> {
    if (this.options.commonPasswords !== false) await this.commonPasswords();
  }

  private commonPasswords(): Promise<SortedLines> {
    // Imported when first needed: a cold start (a Lambda's, a login-only replica's) does not pay for the list. A
    // failed import is not remembered, so the next password set tries again.
    this.common ??= import('./common-passwords.js').then(
      ({ COMMON_PASSWORDS }) => new SortedLines(COMMON_PASSWORDS),
      (error: unknown) => {
        this.common = undefined;
        throw error;
      },
    );
    return this.common;
  }
}

/**
 * Sorted lines of one string, searched in place: 49,233 passwords are 0.4 MB of text and 0.2 MB of offsets, where
 * a `Set` of as many strings is about 3 MB of heap (and the resident memory its making leaves behind). Hand-written
 * because it is ten lines; no library keeps a sorted word list without one string per word.
 */
class SortedLines {
  private readonly starts: Uint32Array;

  constructor(private readonly text: string) {
    const starts = [0];
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) starts.push(at + 1);
    this.starts = Uint32Array.from(starts);
  }

  has(word: string): boolean {
    let low = 0;
    let high = this.starts.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const start = this.starts[middle]!;
      const line = this.text.slice(start, middle + 1 < this.starts.length ? this.starts[middle + 1]! - 1 : this.text.length);
      if (line === word) return true;
      if (line < word) low = middle + 1;
      else high = middle - 1;
    }
    return false;
  }
}

function fold(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** The account's own words: its email whole, its part before `@`, that part's words, and its name. */
function wordsOf({ email, name }: PasswordContext): string[] {
  const address = fold(email.trim());
  const local = address.slice(0, Math.max(0, address.lastIndexOf('@')));
  const parts = local.split(/[._+-]+/).filter((part) => part.length >= 3);
  const words = [address, local, local.replace(/[._+-]+/g, ''), ...parts];
  const named = name ? fold(name.trim()) : '';
  if (named) words.push(named, named.replace(/\s+/g, ''), ...named.split(/\s+/).filter((part) => part.length >= 3));
  return words.filter(Boolean);
}
