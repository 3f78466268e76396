import { STATUS_CODES } from 'node:http';

/**
 * RFC 9110's names where Node's `STATUS_CODES` keeps older ones (RFC 7231's): a problem's `title` is the status
 * code's reason phrase, and the HTTP semantics in force today name 413 and 422 otherwise.
 */
const RFC_9110_TITLES: Readonly<Record<number, string>> = {
  413: 'Content Too Large',
  422: 'Unprocessable Content',
};

/** The reason phrase of `status` as RFC 9110 names it, for a problem document's `title`. */
export function statusTitle(status: number): string {
  return RFC_9110_TITLES[status] ?? STATUS_CODES[status] ?? 'Error';
}
