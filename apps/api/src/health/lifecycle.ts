import { Injectable } from '@nestjs/common';

/**
 * Where this replica is in its shutdown. On SIGTERM it starts **draining**: readiness answers 503 so the load
 * balancer stops sending new requests, while everything keeps being served as before, kept-alive connections
 * included (closing them now would only make a balancer that has not noticed yet open new ones, which the close
 * then resets). Then it is **closing**: new connections are refused and each open one is asked, with its next
 * response, to go (`Connection: close`) before the server closes.
 */
@Injectable()
export class Lifecycle {
  private phase: 'serving' | 'draining' | 'closing' = 'serving';

  get draining(): boolean {
    return this.phase !== 'serving';
  }

  get closing(): boolean {
    return this.phase === 'closing';
  }

  startDraining(): void {
    if (this.phase === 'serving') this.phase = 'draining';
  }

  startClosing(): void {
    this.phase = 'closing';
  }
}
