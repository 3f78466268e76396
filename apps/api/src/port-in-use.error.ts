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
