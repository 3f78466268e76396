import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { CrossSiteRequestError, SessionRejectedError, StoreUnavailableError } from '@kura/session';

/** No valid session: 401. DynamoDB could not answer: 503 with Retry-After. A cross-site cookie request: 403. */
@Catch(SessionRejectedError, StoreUnavailableError, CrossSiteRequestError)
export class SessionErrorFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: SessionRejectedError | StoreUnavailableError | CrossSiteRequestError, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const response = host.switchToHttp().getResponse<unknown>();
    if (error instanceof StoreUnavailableError) {
      httpAdapter.setHeader(response, 'retry-after', String(error.retryAfterSeconds));
      return httpAdapter.reply(response, { status: 503, title: 'Service Unavailable' }, 503);
    }
    if (error instanceof CrossSiteRequestError) return httpAdapter.reply(response, { status: 403, title: 'Forbidden' }, 403);
    httpAdapter.setHeader(response, 'www-authenticate', 'Bearer');
    httpAdapter.reply(response, { status: 401, title: 'Unauthorized' }, 401);
  }
}
