import { randomBytes } from 'node:crypto';

/** What an ending's call id ends with: the data is deleted with the session (`:d`), or a new session took it (`:k`). */
const DELETES_DATA = ':d';
const KEEPS_DATA = ':k';

/**
 * A new id for one `end` call, which the adapter leaves in the tombstone (`endedBy`) when this call is the first
 * ending: 72 random bits (so a write the client sends again after a lost answer knows itself), and whether this
 * ending deletes the session's data. A later ending of the same session reads that back (`endingDeletedData`):
 * when the first ending failed after its tombstone landed (a 503 part way), the client's retry, a new call, deletes
 * the data again, and never data a new session took over. For adapters.
 */
export function endingCall(keepData: boolean): string {
  return `${randomBytes(9).toString('base64url')}${keepData ? KEEPS_DATA : DELETES_DATA}`;
}

/**
 * Whether the tombstone's `endedBy` says its ending deleted the session's data. `false` for an ending that kept it
 * (a re-authentication: the data is a new session's now) and for one written before endings said (no suffix:
 * base64url has no `:`), so neither is ever deleted by a later ending.
 */
export function endingDeletedData(endedBy: unknown): boolean {
  return typeof endedBy === 'string' && endedBy.endsWith(DELETES_DATA);
}
