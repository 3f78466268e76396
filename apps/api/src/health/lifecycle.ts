import { Injectable } from '@nestjs/common';

/**
 * Whether this replica is shutting down. On SIGTERM it starts draining: readiness answers 503 so the load
 * balancer stops sending new requests, while requests keep being served until the server closes.
 */
@Injectable()
export class Lifecycle {
  private drainingSince: number | undefined;

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  startDraining(): void {
    this.drainingSince ??= Date.now();
  }
}
