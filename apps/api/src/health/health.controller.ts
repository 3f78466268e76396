import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { StoreUnavailableError } from '@kura/common';
import { SessionService } from '@kura/session';
import { ApiDefect, ApiProblem } from '../http/problem.schema.js';
import { HealthResponse } from './health.schemas.js';
import { Readiness } from './readiness.js';

/** Terminus's own OpenAPI description is replaced: a failing check reaches clients as a 503 problem document. */
const HEALTH_CHECK = { noCache: true, swaggerDocumentation: false };
const PASSING = { description: 'Every check passed.', standardSchema: HealthResponse };

/**
 * Probes for Kubernetes and load balancers, and the store's state for dashboards. They take no credentials:
 * probes carry none.
 */
@ApiTags('health')
@ApiDefect()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly sessions: SessionService,
    private readonly readiness: Readiness,
  ) {}

  @Get('live')
  @HealthCheck(HEALTH_CHECK)
  @ApiOperation({
    summary: 'The process is up (never checks the store: a store outage must not restart pods)',
    description: 'For the liveness probe: answers 200 while the process can answer at all.',
    security: [],
  })
  @ApiOkResponse(PASSING)
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck(HEALTH_CHECK)
  @ApiOperation({
    summary:
      'This replica takes new requests; 503 only while starting (until the session store, and a users table apart from it, have answered it once) or ' +
      'shutting down. A later store outage does not make it unready (see /health/store)',
    description: 'For the readiness probe and load balancers.',
    security: [],
  })
  @ApiOkResponse(PASSING)
  @ApiProblem(503, 'Not ready: starting or shutting down (`checks.lifecycle.message` says which).')
  ready() {
    return this.health.check([
      async () => {
        const indicator = this.indicators.check('lifecycle');
        const reason = await this.readiness.notReadyReason();
        return reason ? indicator.down({ message: reason }) : indicator.up();
      },
    ]);
  }

  @Get('store')
  @HealthCheck(HEALTH_CHECK)
  @ApiOperation({
    summary: 'The session store answers now; 503 otherwise. For dashboards and alerts: no probe uses it',
    description:
      'On DynamoDB, one eventually consistent read of a key that never exists: it proves the table and the permissions. ' +
      'On Redis, INFO and one small write of a key that expires a minute later: it proves Redis serves and takes writes.',
    security: [],
  })
  @ApiOkResponse(PASSING)
  @ApiProblem(503, 'The store does not answer; `checks.store.message` says why in one line.')
  store() {
    return this.health.check([
      async () => {
        const indicator = this.indicators.check('store');
        try {
          await this.sessions.ping();
          return indicator.up();
        } catch (error) {
          // Why, in one line: a missing table or absent credentials is not an outage, and says what to do.
          return indicator.down({ message: error instanceof StoreUnavailableError ? error.reason : 'session store unreachable' });
        }
      },
    ]);
  }
}
