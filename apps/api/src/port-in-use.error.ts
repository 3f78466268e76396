import { createServer } from 'node:net';

/** The port a variable names is taken by another process: said in one line that names the variable. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';

  constructor(
    readonly variable: string,
    readonly port: number,
  ) {
    super(`port ${port} (${variable}) is in use by another process: stop it, or set ${variable} to a free port`);
  }
}

/** Runs `listen`, turning `EADDRINUSE` into a {@link PortInUseError} for `variable`. */
export async function listening<T>(variable: string, port: number, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    throw (error as { code?: unknown }).code === 'EADDRINUSE' ? new PortInUseError(variable, port) : error;
  }
}

/**
 * Throws a {@link PortInUseError} for `variable` when `host:port` is taken, before anything starts: Nest's own
 * listen logs the bind error as an ERROR line, a second line a newcomer had to read past ours. Any other listen
 * error (an address not on this machine) is left to the real listen; port 0 is never taken.
 */
export async function assertPortFree(variable: string, host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  const taken = await new Promise<boolean>((resolve) => {
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE'));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(false)));
  });
  if (taken) throw new PortInUseError(variable, port);
}
