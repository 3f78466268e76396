import { StoreUnavailableError } from '@kura/common';
import { sessionProblemOf } from './session-problem.js';
import * as errors from './session.errors.js';

describe('sessionProblemOf: the README table of errors and statuses', () => {
  it.each([
    [new errors.SessionRejectedError('expired'), 401, 'session-required', { 'www-authenticate': 'Bearer' }],
    [new errors.StaleCredentialsError(), 401, 'invalid-credentials', {}],
    [new errors.CrossSiteRequestError('Origin: null'), 403, 'cross-site-request', {}],
    [new errors.ReauthenticationRequiredError(300), 403, 'reauthentication-required', {}],
    [new errors.SessionNotFoundError(), 404, 'session-not-found', {}],
    [new errors.SessionDataConflictError(7), 412, 'session-data-changed', { etag: '"7"' }],
    [new errors.SessionDataTooLargeError(8192), 413, 'session-data-too-large', {}],
    [new errors.InvalidSessionDataError('a patch must be a JSON object'), 400, 'invalid-session-data', {}],
    [new errors.InvalidSessionUserError('id', 'is empty'), 400, 'invalid-request', {}],
    [new errors.SessionDataContentionError(8), 503, 'session-data-contention', { 'retry-after': '1' }],
    [new StoreUnavailableError('session.find', { retryAfterSeconds: 2, reason: 'no answer within 1000 ms' }), 503, 'store-unavailable', { 'retry-after': '2' }],
  ])('%s → %i', (error, status, slug, headers) => {
    const problem = sessionProblemOf(error)!;

    expect(problem).toMatchObject({ status, type: `urn:kura:problem:${slug}`, headers });
    expect(problem.title).toMatch(/^[A-Z]/);
    expect(problem.detail.length).toBeGreaterThan(0);
  });

  it("titles a 413 as RFC 9110 names it, 'Content Too Large', not Node's older 'Payload Too Large'", () => {
    expect(sessionProblemOf(new errors.SessionDataTooLargeError(8192))!.title).toBe('Content Too Large');
  });

  it("tells a client nothing of the store's reason, which is for the operator's log", () => {
    const problem = sessionProblemOf(new StoreUnavailableError('session.find', { reason: 'table kura-sessions does not exist' }))!;

    expect(JSON.stringify(problem)).not.toContain('kura-sessions');
  });

  it('is undefined for errors that are not the session layer\'s, a boot-time options error among them', () => {
    expect(sessionProblemOf(new Error('boom'))).toBeUndefined();
    expect(sessionProblemOf(new errors.SessionOptionsError(['store is required']))).toBeUndefined();
    expect(sessionProblemOf('a string')).toBeUndefined();
  });
});
