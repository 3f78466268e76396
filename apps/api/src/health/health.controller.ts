import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { StoreUnavailableError } from '@kura/common';
import { SessionService } from '@kura/session';
import { Lifecycle } from './lifecycle.js';

/** Probes for Kubernetes and load balancers. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly sessions: SessionService,
    private readonly lifecycle: Lifecycle,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'The process is up (never checks the store: a store outage must not restart pods)' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'The session store answers and the replica is not shutting down; 503 otherwise' })
  ready() {
    return this.health.check([
      () => {
        const indicator = this.indicators.check('lifecycle');
        return this.lifecycle.draining ? indicator.down({ message: 'shutting down' }) : indicator.up();
      },
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
