import { domainToASCII, domainToUnicode } from 'node:url';
import type { UserRecord } from '@kura/common';

export type { UserRecord } from '@kura/common';

/** What may be shown of a user. */
export interface PublicUser {
  readonly id: string;
  readonly email: string;
  readonly name: string | null;
  readonly createdAt: string;
}

/** A user whose password was just checked, and the version of the credentials that check was made on. */
export interface VerifiedUser extends PublicUser {
  readonly credentialVersion: number;
}

export function toPublicUser(user: UserRecord): PublicUser {
  return { id: user.id, email: user.email, name: user.name, createdAt: new Date(user.createdAt).toISOString() };
}

/**
 * One account's email however it is typed: surrounding white space dropped, in Unicode's compatibility form (NFKC:
 * a letter typed composed or decomposed, fullwidth or not, is one letter), in lower case, with its domain in one
 * form (IDNA: `MÜNCHEN.de`, `münchen.de` and `xn--mnchen-3ya.de` are one domain, kept as `münchen.de`). An ASCII
 * email is only trimmed and lowered, as before internationalised ones were accepted.
 */
export function normaliseEmail(email: string): string {
  const folded = email.trim().normalize('NFKC').toLowerCase();
  const at = folded.lastIndexOf('@');
  const ascii = at < 0 ? '' : domainToASCII(folded.slice(at + 1));
  return ascii === '' ? folded : `${folded.slice(0, at)}@${domainToUnicode(ascii)}`;
}

/** A local part: letters and digits of any script, `_`, `'`, `+`, `-`, in dot-separated runs (no quoted forms). */
const LOCAL_PART = /^[\p{L}\p{M}\p{N}_'+-]+(?:\.[\p{L}\p{M}\p{N}_'+-]+)*$/u;
/** A domain as IDNA writes it in ASCII: two labels at least, the last letters (or an IDNA label). */
const ASCII_DOMAIN = /^(?:[a-z0-9][a-z0-9-]*\.)+(?:[a-z]{2,}|xn--[a-z0-9-]+)$/;

/** The full stops IDNA reads as `.` that NFKC leaves as they are (the ideographic one). */
const IDEOGRAPHIC_STOPS = /\u3002/g;

/**
 * Whether `value` is an email address an account may have, internationalised ones included (RFC 6531: `josé@
 * example.com`, `用户@例子.广告`): a local part of at most 64 characters (see LOCAL_PART) and a domain whose IDNA
 * form is a host name of at most 253 characters, labels of at most 63, and 254 characters in all as `normaliseEmail`
 * stores it (the API document's limit). Checked in the form `normaliseEmail` stores. Every ASCII email the API
 * accepted before (zod's email check) it accepts still.
 *
 * The domain must be as typed, label by label, in one of its two forms (Unicode or IDNA's ASCII, up to case and
 * NFKC): IDNA's mapping drops a tab, a line feed or a soft hyphen inside a domain, and keeps a label that begins
 * `xn--` but decodes to nothing, so `a@exa<TAB>mple.com` was stored as `a@example.com`, and `a@xn--zz.de` was kept
 * (an outside review, 2026-12-06).
 */
export function isEmailAddress(value: string): boolean {
  const email = value.normalize('NFKC');
  const at = email.indexOf('@');
  if (at <= 0 || at !== email.lastIndexOf('@')) return false;
  const local = email.slice(0, at);
  const typed = email.slice(at + 1).toLowerCase().replace(IDEOGRAPHIC_STOPS, '.');
  const ascii = domainToASCII(typed);
  if (!([...local].length <= 64 && LOCAL_PART.test(local) && ascii.length <= 253 && ASCII_DOMAIN.test(ascii))) return false;
  const typedLabels = typed.split('.');
  const asciiLabels = ascii.split('.');
  const unicodeDomain = domainToUnicode(ascii);
  const unicodeLabels = unicodeDomain.split('.');
  const labelsHold = asciiLabels.every((label, index) => {
    const unicode = unicodeLabels[index] ?? '';
    return label.length <= 63 && !unicode.startsWith('xn--') && (typedLabels[index] === label || typedLabels[index] === unicode);
  });
  // What `normaliseEmail` stores, from the parts already at hand (a value that passed the checks above has nothing to trim).
  return labelsHold && typedLabels.length === asciiLabels.length && [...local.toLowerCase()].length + 1 + [...unicodeDomain].length <= 254;
}
