import { type ArgumentsHost, Catch, type ExceptionFilter, Logger, NotFoundException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StoreUnavailableError } from '@kura/common';
import { type Problem, toProblem } from './problem-details.js';
import { MethodNotAllowedError, type RouteMethods } from './route-methods.js';

/** Sends every error as `application/problem+json`; the app's single error-to-HTTP mapping is {@link toProblem}. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  /** `routes`: the app's paths and their methods, for a 405 where the router found the path under other methods. */
  constructor(private readonly routes?: RouteMethods) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    sendProblem(request, http.getResponse<FastifyReply>(), this.methodNotAllowed(request, error) ?? error, this.logger);
  }

  /**
   * Nest answers every request the router matched to no route with a NotFoundException (Kura throws none itself): where
   * the path is there under other methods, it is a 405. A path taken with this very method that still reached no route
   * (on Lambda, one the handler found rewritten by URL parsing) stays a 404.
   */
  private methodNotAllowed(request: FastifyRequest, error: unknown): MethodNotAllowedError | undefined {
    if (!this.routes || !(error instanceof NotFoundException)) return undefined;
    const query = request.url.indexOf('?');
    const allowed = this.routes.of(query === -1 ? request.url : request.url.slice(0, query));
    return allowed && !allowed.includes(request.method) ? new MethodNotAllowedError(allowed) : undefined;
  }
}

/** Sends `error` as a problem document; also for the errors Fastify's router answers before Nest sees the request. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: unknown, logger: Logger): void {
  const { problem, headers, unexpected } = toProblem(error);
  // The request id ties these lines to the access log line and to the X-Request-Id the client saw.
  if (unexpected) logger.error({ requestId: request.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  else if (problem.status === 503) logger.warn({ requestId: request.id, problem: problem.type, reason: reasonOf(error, problem), cause: describe(error) });
  // A PATCH refused for its media type says which it takes (RFC 5789, section 2.2): Kura's one PATCH reads JSON only.
  if (problem.status === 415 && request.method === 'PATCH') void reply.header('accept-patch', ACCEPT_PATCH);
  void reply.status(problem.status).headers(headers).type('application/problem+json').send(problem);
}

/** The media types `PATCH /session/data` takes. */
export const ACCEPT_PATCH = 'application/merge-patch+json, application/json';

/** Why the answer is 503, in the words readiness uses: the store's reason, or each failing check's. */
function reasonOf(error: unknown, problem: Problem): string {
  if (error instanceof StoreUnavailableError) return error.reason;
  const checks = Object.entries((problem.checks ?? {}) as Record<string, { status?: string; message?: string }>);
  const down = checks.filter(([, check]) => check.status === 'down').map(([name, check]) => `${name}: ${check.message ?? 'down'}`);
  return down.length > 0 ? down.join('; ') : problem.title;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.name}: ${error.cause.message})` : '';
  // The store's message ends with the reason, which the line already carries: the operation is what it adds.
  const what = error instanceof StoreUnavailableError ? `${error.operation} failed` : error.message;
  return `${what}${cause}`;
}
