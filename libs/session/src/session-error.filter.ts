import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { StoreUnavailableError } from '@kura/common';
import { SESSION_ERRORS, sessionProblemOf } from './session-problem.js';

/**
 * Answers every error this package throws with its status, on Fastify and Express alike, as an RFC 9457 problem
 * document (`application/problem+json`: `type`, `title`, `status`, `detail`) with its headers
 * ({@link sessionProblemOf}). Without a filter for them, Nest answers each with a 500. Register it once, for
 * every route: `{ provide: APP_FILTER, useClass: SessionErrorFilter }`. Errors of other kinds pass on to Nest's
 * own handling (and the app's other filters). A store that could not answer (503) is logged as a warning with its
 * reason (`Redis did not answer within the command timeout`), so an outage shows in the app's log.
 */
@Catch(...SESSION_ERRORS)
export class SessionErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('KuraSession');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: Error, host: ArgumentsHost): void {
    const answer = sessionProblemOf(error)!;
    if (error instanceof StoreUnavailableError) this.logger.warn(`503: ${error.operation} failed: ${error.reason}`);
    const { httpAdapter } = this.adapterHost;
    const response = host.switchToHttp().getResponse<unknown>();
    for (const [name, value] of Object.entries(answer.headers)) httpAdapter.setHeader(response, name, value);
    httpAdapter.setHeader(response, 'content-type', 'application/problem+json');
    const { headers: _, ...body } = answer;
    httpAdapter.reply(response, body, answer.status);
  }
}
