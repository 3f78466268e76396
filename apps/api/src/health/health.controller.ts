import { Controller, Get, Header, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { StoreUnavailableError } from '@kura/common';
import { SessionService } from '@kura/session';
import { ApiDefect, ApiProblem } from '../http/problem.schema.js';
import { HealthResponse } from './health.schemas.js';
import { Readiness } from './readiness.js';
import { SharedCheck } from './shared-check.js';

const PASSING = { description: 'Every check passed.', standardSchema: HealthResponse };

/** One check's state: down with why, in one line. */
type Check = { readonly status: 'up' } | { readonly status: 'down'; readonly message: string };

/**
 * The report every health route answers, in the shape Kubernetes tooling and dashboards know from
 * `@nestjs/terminus` (`status`, and each check by name under `info` or `error`, all under `details`). Built here:
 * Kura runs none of terminus's indicators, and the package cost 24 KB of the Lambda artifact's cold path and its
 * eighteen providers at every start. A check that is down answers 503, a problem document with `checks`.
 */
function report(checks: Readonly<Record<string, Check>>) {
  const down = Object.entries(checks).filter(([, check]) => check.status === 'down');
  const up = Object.entries(checks).filter(([, check]) => check.status === 'up');
  const body = { status: down.length ? 'error' : 'ok', info: Object.fromEntries(up), error: Object.fromEntries(down), details: checks };
  if (down.length) throw new ServiceUnavailableException(body);
  return body;
}

/** How long a passed store check answers for every `GET /health/store` after it. */
const STORE_CHECK_REUSE_MS = 1000;

const down = (message: string): Check => ({ status: 'down', message });
const UP: Check = { status: 'up' };

/**
 * Probes for Kubernetes and load balancers, and the store's state for dashboards. They take no credentials:
 * probes carry none; nothing they answer may be cached.
 */
@ApiTags('health')
@ApiDefect()
@Controller('health')
export class HealthController {
  /** The store's check, run at most once a second while it passes, however many ask (shared-check.ts). */
  private readonly storeCheck: SharedCheck;

  constructor(
    sessions: SessionService,
    private readonly readiness: Readiness,
  ) {
    this.storeCheck = new SharedCheck(() => sessions.ping(), STORE_CHECK_REUSE_MS);
  }

  @Get('live')
  @Header('cache-control', 'no-cache, no-store, must-revalidate')
  @ApiOperation({
    summary: 'The process is up (never checks the store: a store outage must not restart pods)',
    description: 'For the liveness probe: answers 200 while the process can answer at all.',
    security: [],
  })
  @ApiOkResponse(PASSING)
  live() {
    return report({});
  }

  @Get('ready')
  @Header('cache-control', 'no-cache, no-store, must-revalidate')
  @ApiOperation({
    summary:
      'This replica takes new requests; 503 only while starting (until the session store, and a users table apart from it, have answered it once) or ' +
      'shutting down. A later store outage does not make it unready (see /health/store)',
    description: 'For the readiness probe and load balancers.',
    security: [],
  })
  @ApiOkResponse(PASSING)
  @ApiProblem(503, 'Not ready: starting or shutting down (`checks.lifecycle.message` says which).')
  async ready() {
    const reason = await this.readiness.notReadyReason();
    return report({ lifecycle: reason ? down(reason) : UP });
  }

  @Get('store')
  @Header('cache-control', 'no-cache, no-store, must-revalidate')
  @ApiOperation({
    summary: 'The session store answers now; 503 otherwise. For dashboards and alerts: no probe uses it',
    description:
      'On DynamoDB, one eventually consistent read of a key that never exists: it proves the table and the permissions. ' +
      'On Redis, INFO and one small write of a key that expires a minute later: it proves Redis serves and takes writes. ' +
      'At most one check a second per replica while the store passes: requests that come while one runs share it, and a pass ' +
      'answers for a second after it (a failure is checked again at the next request).',
    security: [],
  })
  @ApiOkResponse(PASSING)
  @ApiProblem(503, 'The store does not answer; `checks.store.message` says why in one line.')
  async store() {
    try {
      await this.storeCheck.run();
      return report({ store: UP });
    } catch (error) {
      // Why, in one line: a missing table or absent credentials is not an outage, and says what to do.
      return report({ store: down(error instanceof StoreUnavailableError ? error.reason : 'session store unreachable') });
    }
  }
}
