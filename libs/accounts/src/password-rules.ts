import { COMMON_PASSWORDS } from './common-passwords.js';
import type { PasswordContext, PasswordPolicyOptions, WeakPasswordReason } from './password-policy.js';

/** A password's letters stripped of whatever digits, symbols and spaces surround them (`Password123!` → `password`). */
const SURROUNDINGS = /^[^\p{L}]+|[^\p{L}]+$/gu;
/** One character over and over (`zzzzzzzz`, `........`): no list holds every one of them. */
const ONE_CHARACTER = /^(.)\1*$/su;

/** What `PasswordPolicy` applies, loaded with the common passwords at the first password set. */
export class PasswordRules {
  private readonly common: SortedLines | undefined;
  private readonly blocklist: ReadonlySet<string>;
  private readonly serviceWords: readonly string[];

  constructor(options: PasswordPolicyOptions) {
    this.common = options.commonPasswords === false ? undefined : new SortedLines(COMMON_PASSWORDS);
    this.blocklist = new Set([...(options.blocklist ?? [])].map(fold));
    this.serviceWords = [...(options.serviceWords ?? [])].map(fold).filter(Boolean);
  }

  weakness(password: string, context: PasswordContext): WeakPasswordReason | undefined {
    const folded = fold(password);
    const core = folded.replace(SURROUNDINGS, '');
    if (ONE_CHARACTER.test(folded)) return 'common';
    const contextWords = [...wordsOf(context), ...this.serviceWords];
    if (contextWords.includes(folded) || (core && contextWords.includes(core))) return 'context';
    const known = (list: { has(word: string): boolean }) => list.has(folded) || (core !== '' && list.has(core));
    if (known(this.blocklist) || (this.common && known(this.common))) return 'common';
    return undefined;
  }
}

/**
 * Sorted lines of one string, searched in place: 49,233 passwords are 0.4 MB of text and 0.2 MB of offsets, where
 * a `Set` of as many strings is about 3 MB of heap (and the resident memory its making leaves behind). Hand-written
 * because it is ten lines; no library keeps a sorted word list without one string per word.
 */
class SortedLines {
  /** Where each line starts, and where a line after the last would (so that line `i` ends at `starts[i + 1] - 1`). */
  private readonly starts: Uint32Array;

  constructor(private readonly text: string) {
    const starts = [0];
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) starts.push(at + 1);
    starts.push(text.length + 1);
    this.starts = Uint32Array.from(starts);
  }

  has(word: string): boolean {
    let low = 0;
    let high = this.starts.length - 2;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const line = this.text.slice(this.starts[middle]!, this.starts[middle + 1]! - 1);
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
