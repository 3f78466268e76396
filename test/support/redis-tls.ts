import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { installed } from './installed.js';

const run = promisify(execFile);

/** Why the TLS tests cannot run here (no `openssl` to make their certificates), or `undefined`. */
export function opensslMissing(): string | undefined {
  return installed('openssl', ['version']) ? undefined : 'openssl is not installed (apt-get install openssl)';
}

export interface TestCertificates {
  /** The files, for redis-server's directives and Kura's `KURA_REDIS_TLS_*_FILE`. */
  readonly files: { readonly ca: string; readonly serverCert: string; readonly serverKey: string; readonly clientCert: string; readonly clientKey: string };
  /** The PEM texts of the authority, and of the client's certificate and key, for the `tls` option. */
  readonly ca: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/**
 * A certificate authority of the test's own, made in `dir` with `openssl` (P-256 keys, valid for two days), and
 * two certificates it signs: the server's, naming `localhost` and `127.0.0.1`, and a client's for mutual TLS.
 */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const path = (name: string) => join(dir, name);
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await run('openssl', ['req', '-x509', ...newKey, '-keyout', path('ca.key'), '-out', path('ca.crt'), '-days', '2', '-subj', '/CN=Kura test CA']);
  const signed = async (name: string, subject: string, extensions: string) => {
    await writeFile(path(`${name}.ext`), extensions);
    await run('openssl', ['req', ...newKey, '-keyout', path(`${name}.key`), '-out', path(`${name}.csr`), '-subj', subject]);
    await run('openssl', ['x509', '-req', '-in', path(`${name}.csr`), '-CA', path('ca.crt'), '-CAkey', path('ca.key'), '-CAcreateserial', '-out', path(`${name}.crt`), '-days', '2', '-extfile', path(`${name}.ext`)]);
  };
  // clientAuth too: the nodes of a TLS cluster (tls-cluster) present it to one another on the cluster bus.
  await signed('server', '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  await signed('client', '/CN=kura', 'extendedKeyUsage=clientAuth\n');
  const files = { ca: path('ca.crt'), serverCert: path('server.crt'), serverKey: path('server.key'), clientCert: path('client.crt'), clientKey: path('client.key') };
  return { files, ca: await readFile(files.ca, 'utf8'), clientCert: await readFile(files.clientCert, 'utf8'), clientKey: await readFile(files.clientKey, 'utf8') };
}

/**
 * A server certificate, naming `localhost` and `127.0.0.1`, that the authority `makeTestCertificates` made in `dir`
 * signed with an end before its start (`-days -1`): expired from the moment it exists. Its key is the server's.
 */
export async function makeExpiredServerCertificate(dir: string): Promise<string> {
  const path = (name: string) => join(dir, name);
  await run('openssl', ['x509', '-req', '-in', path('server.csr'), '-CA', path('ca.crt'), '-CAkey', path('ca.key'), '-CAcreateserial', '-out', path('expired.crt'), '-days', '-1', '-extfile', path('server.ext')]);
  return path('expired.crt');
}
