import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * API Gateway HTTP API (payload 2.0) events shaped as AWS sends them: cookies in `cookies[]`, lower-case
 * headers, the query both raw and parsed, a JSON body as a string.
 */
export function httpApiEvent(
  method: string,
  path: string,
  options: { body?: unknown; cookies?: string[]; headers?: Record<string, string>; query?: Record<string, string> } = {},
): APIGatewayProxyEventV2 {
  const query = options.query ?? {};
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(options.cookies ? { cookies: options.cookies } : {}),
    headers: {
      host: 'abc123.execute-api.eu-west-1.amazonaws.com',
      'user-agent': 'kura-test',
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-proto': 'https',
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'kura-test' },
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    isBase64Encoded: false,
  };
}

/** `name=value` pairs from a Lambda result's `cookies`, ready to send back in the next event. */
export function cookiesFrom(result: { cookies?: string[] }): string[] {
  return (result.cookies ?? []).map((cookie) => cookie.split(';')[0]!).filter((pair) => !pair.endsWith('='));
}

/** The environment of a Lambda handler on the Redis at `port`, as the Lambda tests on Redis run it. */
export function lambdaOnRedisEnv(port: number, logLevel: 'warn' | 'error'): Record<string, string> {
  return {
    KURA_STORE: 'redis',
    REDIS_URL: `redis://127.0.0.1:${port}`,
    KURA_PASSWORD_HASH_COST: '12',
    KURA_LOG_LEVEL: logLevel,
    KURA_DOCS_UI: 'false',
    AWS_LAMBDA_FUNCTION_NAME: 'kura-test-api',
  };
}
