import { createServer } from 'node:net';

/** Kura could not listen where its settings say: said in one line that names the setting, without a stack. */
export class ListenRefusedError extends Error {
  override readonly name: string = 'ListenRefusedError';
}

/** The port a variable names is taken by another process: said in one line that names the variable. */
export class PortInUseError extends ListenRefusedError {
  override readonly name = 'PortInUseError';

  constructor(
    readonly variable: string,
    readonly port: number,
  ) {
    super(`port ${port} (${variable}) is in use by another process: stop it, or set ${variable} to a free port`);
  }
}

/** The host a listener binds, and the variable that set it, to name in a refusal. */
export interface ListenHost {
  readonly host: string;
  readonly variable: string;
}

/**
 * A listen error said as what to change (a {@link ListenRefusedError}), where its code is one a setting causes: the
 * port taken, an address not on this machine, a port below 1024 for a user who may not bind one (the manifests run
 * as user 10001). Any other error is returned as it is. Before, only a port in use was said so; the rest printed a
 * stack of some 45 lines (an outside review, 2026-12-07).
 */
function refusalOf(error: unknown, variable: string, port: number, at?: ListenHost): unknown {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'EADDRINUSE') return new PortInUseError(variable, port);
  if (code === 'EADDRNOTAVAIL' && at) return new ListenRefusedError(`${at.host} (${at.variable}) is not an address of this machine: set ${at.variable} to one of its addresses, or 0.0.0.0 for all of them`);
  // A link-local IPv6 address (fe80::…) needs the interface it is on (fe80::1%eth0); the hint only where it is one without.
  if (code === 'EINVAL' && at) {
    const linkLocal = /^fe[89ab][0-9a-f]:/i.test(at.host) && !at.host.includes('%');
    return new ListenRefusedError(`${at.host} (${at.variable}) cannot be listened on (EINVAL)${linkLocal ? ': a link-local IPv6 address needs its interface (fe80::1%eth0)' : ''}; set ${at.variable} to an address of this machine, or :: for all of them`);
  }
  if (code === 'EACCES') return new ListenRefusedError(`port ${port} (${variable}) needs a privilege this process does not have, as every port below 1024 does: set ${variable} to 1024 or above`);
  if ((code === 'ENOTFOUND' || code === 'EAI_AGAIN') && at) return new ListenRefusedError(`${at.host} (${at.variable}) does not resolve to an address (${code}): set ${at.variable} to an address of this machine`);
  return error;
}

/** Runs `listen`, turning an error its settings cause into a {@link ListenRefusedError} naming `variable` (and `at`'s). */
export async function listening<T>(variable: string, port: number, listen: () => Promise<T>, at?: ListenHost): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    throw refusalOf(error, variable, port, at);
  }
}

/**
 * Throws a {@link ListenRefusedError} for `variable` (a {@link PortInUseError} when `host:port` is taken) before
 * anything starts: Nest's own listen logs the bind error as an ERROR line, a second line a newcomer had to read past
 * ours, and a metrics port refused after the API's listened left the API up. Port 0 is never taken.
 */
export async function assertPortFree(variable: string, at: ListenHost, port: number): Promise<void> {
  const probe = createServer();
  const failure = await new Promise<unknown>((resolve) => {
    probe.once('error', resolve);
    probe.listen({ host: at.host, port, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
  if (failure === undefined) return;
  const refusal = refusalOf(failure, variable, port, at);
  // Any other error is left to the real listen, which meets it again.
  if (refusal instanceof ListenRefusedError) throw refusal;
}
