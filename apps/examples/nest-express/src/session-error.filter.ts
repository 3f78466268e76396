import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { CrossSiteRequestError, InvalidSessionUserError, SessionRejectedError, StoreUnavailableError } from '@kura/session';

/**
 * No valid session: 401. DynamoDB could not answer: 503 with Retry-After. A cross-site request: 403. A user name
 * no session can keep (over 1 KB): 400.
 */
@Catch(SessionRejectedError, StoreUnavailableError, CrossSiteRequestError, InvalidSessionUserError)
export class SessionErrorFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: SessionRejectedError | StoreUnavailableError | CrossSiteRequestError | InvalidSessionUserError, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const response = host.switchToHttp().getResponse<unknown>();
    if (error instanceof StoreUnavailableError) {
      httpAdapter.setHeader(response, 'retry-after', String(error.retryAfterSeconds));
      return httpAdapter.reply(response, { status: 503, title: 'Service Unavailable' }, 503);
    }
    if (error instanceof CrossSiteRequestError) return httpAdapter.reply(response, { status: 403, title: 'Forbidden' }, 403);
    if (error instanceof InvalidSessionUserError) return httpAdapter.reply(response, { status: 400, title: 'Bad Request', detail: error.message }, 400);
    httpAdapter.setHeader(response, 'www-authenticate', 'Bearer');
    httpAdapter.reply(response, { status: 401, title: 'Unauthorized' }, 401);
  }
}
