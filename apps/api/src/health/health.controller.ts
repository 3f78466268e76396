import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { StoreUnavailableError } from '@kura/common';
import { SessionService } from '@kura/session';
import { Readiness } from './readiness.js';

/** Probes for Kubernetes and load balancers, and the store's state for dashboards. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly sessions: SessionService,
    private readonly readiness: Readiness,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'The process is up (never checks the store: a store outage must not restart pods)' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary:
      'This replica takes new requests; 503 only while starting (until the session store has answered it once) or ' +
      'shutting down. A later store outage does not make it unready (see /health/store)',
  })
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
  @HealthCheck()
  @ApiOperation({ summary: 'The session store answers now; 503 otherwise. For dashboards and alerts: no probe uses it' })
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
