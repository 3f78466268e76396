import { HttpException, NotFoundException } from '@nestjs/common';
import { TooManyLoginAttemptsError, WeakPasswordError } from '@kura/accounts';
import { StoreUnavailableError } from '@kura/common';
import { SessionRejectedError } from '@kura/session';
import { PROBLEM_TYPES, toProblem } from './problem-details.js';

const TOKEN = 'Tk9fUkVGTEVDVElPTl9PRl9USElTX1RPS0VOX0VWRVI';

/** A Fastify client error as Fastify makes them: a 4xx `statusCode`, an `FST_` code, a message. */
const fastifyError = (code: string, statusCode: number, message: string) => Object.assign(new Error(message), { code, statusCode });

describe('toProblem', () => {
  it("answers Nest's 404 for an unknown route without the method, path or query its message quotes", () => {
    const { problem } = toProblem(new NotFoundException(`Cannot GET /auth/${TOKEN}?token=${TOKEN}`));

    expect(problem).toEqual({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'No route matches this method and path.' });
  });

  it.each([
    ['FST_ERR_BAD_URL', 400, `'/%zz${TOKEN}' is not a valid url component`],
    ['FST_ERR_MAX_PARAM_LENGTH', 414, `'${TOKEN}' is exceeding the max param length`],
    ['FST_ERR_SOMETHING_NEW', 400, `a future message about /${TOKEN}`],
  ])('answers Fastify %s with its status and words of its own, never the message', (code, status, message) => {
    const { problem } = toProblem(fastifyError(code, status, message));

    expect(problem.status).toBe(status);
    expect(JSON.stringify(problem)).not.toContain(TOKEN);
  });

  it.each([
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, /too large/],
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, /JSON/],
    ['FST_ERR_CTP_INVALID_JSON_BODY', 400, /not valid JSON/],
    ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, /empty/],
  ])('still says what was wrong with the body for %s', (code, status, detail) => {
    expect(toProblem(fastifyError(code, status, 'whatever Fastify said')).problem).toMatchObject({ status, detail: expect.stringMatching(detail) });
  });

  // What a filter is given in the running service: FastifyAdapter.mapException wraps every 4xx Fastify error.
  it.each([
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, /too large/],
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, /JSON/],
    ['FST_ERR_CTP_INVALID_JSON_BODY', 400, /not valid JSON/],
    ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, /empty/],
  ])('says what was wrong with the body for %s wrapped in an HttpException, as Nest hands it over', (code, status, detail) => {
    const wrapped = new HttpException(`whatever Fastify said about /${TOKEN}`, status, { cause: fastifyError(code, status, `whatever Fastify said about /${TOKEN}`) });

    const { problem } = toProblem(wrapped);

    expect(problem).toEqual({ type: 'about:blank', title: expect.any(String), status, detail: expect.stringMatching(detail) });
    expect(JSON.stringify(problem)).not.toContain(TOKEN);
  });

  it.each([
    [413, 'Content Too Large'],
    [422, 'Unprocessable Content'],
    [414, 'URI Too Long'],
    [400, 'Bad Request'],
  ])('titles a %i as RFC 9110 names it (%s), where Node\'s STATUS_CODES keep an older name', (status, title) => {
    const { problem } = toProblem(new HttpException('whatever', status));

    expect(problem.title).toBe(title);
  });

  it.each([
    ['common', 'password', /commonly used/],
    ['context', 'newPassword', /email or name or of the service's name/],
  ] as const)('answers a %s password refused on %s as an invalid field of the request', (reason, field, detail) => {
    const { problem, unexpected } = toProblem(new WeakPasswordError(reason, field));

    expect(unexpected).toBe(false);
    expect(problem).toEqual({
      type: 'urn:kura:problem:invalid-request',
      title: 'Bad Request',
      status: 400,
      detail: 'The request is not valid.',
      errors: [{ pointer: `/${field}`, detail: expect.stringMatching(detail) }],
    });
  });
});

describe('PROBLEM_TYPES', () => {
  it.each([
    new SessionRejectedError('missing'),
    new TooManyLoginAttemptsError(3),
    new WeakPasswordError('common', 'password'),
    new StoreUnavailableError('session.read'),
    new NotFoundException('Cannot GET /nowhere'),
    new Error('a bug'),
  ])('lists the type of the problem for %p', (error) => {
    expect(PROBLEM_TYPES).toContain(toProblem(error).problem.type);
  });
});
