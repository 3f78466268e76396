import { readFile } from 'node:fs/promises';
import type { RedisTlsOptions } from '@kura/redis';
import type { RedisSettings } from '../config/app-config.js';

/** A Redis TLS file named by its variable cannot be read, or holds no PEM text: said in one line that names the variable. */
export class RedisTlsFileError extends Error {
  override readonly name = 'RedisTlsFileError';

  constructor(
    readonly variable: string,
    readonly path: string,
    problem: string,
  ) {
    super(`${variable}=${path} ${problem}: give the path of a PEM file this process may read`);
  }
}

/**
 * The PEM texts of Redis's TLS files. `npm start` reads them before anything starts: read first inside Nest's
 * module factory, a missing file stopped the process with Nest's ERROR line and a stack.
 * An empty file, or one of another format, is refused too: an empty CA file quietly meant Node's own list of
 * authorities, and an empty certificate no client certificate, each found out only as a failing handshake.
 * @throws RedisTlsFileError naming a variable whose file cannot be read or holds no PEM text
 */
export async function readRedisTlsFiles(files: NonNullable<RedisSettings['tls']>): Promise<RedisTlsOptions> {
  const read = async (variable: string, path: string | undefined) => {
    if (!path) return undefined;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new RedisTlsFileError(variable, path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    if (!text.includes('-----BEGIN ')) throw new RedisTlsFileError(variable, path, 'holds no PEM text (-----BEGIN …)');
    return text;
  };
  const [ca, cert, key] = await Promise.all([
    read('KURA_REDIS_TLS_CA_FILE', files.caFile),
    read('KURA_REDIS_TLS_CERT_FILE', files.certFile),
    read('KURA_REDIS_TLS_KEY_FILE', files.keyFile),
  ]);
  return { ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) };
}
