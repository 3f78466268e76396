import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { SessionService } from '@kura/session';

/** Probes for Kubernetes and load balancers. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly sessions: SessionService,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'The process is up (never checks the store: a store outage must not restart pods)' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'The session store answers; 503 while it does not' })
  ready() {
    return this.health.check([
      async () => {
        const indicator = this.indicators.check('store');
        try {
          await this.sessions.ping();
          return indicator.up();
        } catch {
          return indicator.down({ message: 'session store unreachable' });
        }
      },
    ]);
  }
}
