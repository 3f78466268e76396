// One cold start: load a handler module, serve one authenticated GET /auth/me, print the status, exit.
// Run as a fresh process per sample by run.mjs; the time measured is spawn to the printed status.
const [, , modulePath, token] = process.argv;
const started = performance.now();
if (modulePath === 'bare') {
  process.stdout.write('200\n');
} else {
  const { handler } = await import(modulePath);
  const result = await handler(
    {
      version: '2.0',
      routeKey: '$default',
      rawPath: '/auth/me',
      rawQueryString: '',
      headers: { host: 'bench.local', authorization: `Bearer ${token}` },
      requestContext: { http: { method: 'GET', path: '/auth/me', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' }, requestId: 'bench', stage: '$default', timeEpoch: Date.now() },
      isBase64Encoded: false,
    },
    { awsRequestId: 'bench', getRemainingTimeInMillis: () => 10_000 },
  );
  process.stdout.write(`${result.statusCode} ${(performance.now() - started).toFixed(1)}\n`);
}
process.exit(0);
