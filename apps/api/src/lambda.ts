import awsLambdaFastify, { type PromiseHandler } from '@fastify/aws-lambda';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { StoreUnavailableError, withRequestDeadline } from '@kura/common';
import { sessionProblemOf } from '@kura/session';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { randomUUID } from 'node:crypto';
import { createApp, createLogger, INSTANCE_HEADER } from './app.factory.js';
import { answerSecurityHeaders } from './http/security-headers.js';
import { loadConfig, unknownVariables } from './config/app-config.js';
import { InvocationMetrics } from './observability/emf.js';
import { isWellFormedRequestId, REQUEST_ID_HEADER } from './observability/request-log.js';
import { KURA_STORES, type KuraStores } from './storage/storage.module.js';

/**
 * The AWS Lambda entry (HTTP API, payload 2.0). Serves what `createApp` builds, unchanged. The ready app is
 * kept per execution environment; the first invocation builds it (no network call, no table creation: tables
 * come from `serverless.yml`). Configuration problems fail that invocation with every problem listed.
 */
interface Booted {
  readonly app: Awaited<ReturnType<typeof createApp>>;
  readonly serve: PromiseHandler<APIGatewayProxyEventV2>;
  /** Absent with the memory store (tests): there is no store call to count. */
  readonly metrics: InvocationMetrics | undefined;
}
let booted: Promise<Booted> | undefined;
/** Whether the configuration's cookies are Secure (HSTS goes with them), known once the boot has read it. */
let cookieSecure = true;

/** This environment's id (`Kura-Instance`), made before its app: a request answered while the app boots carries it too. */
const instanceId = randomUUID();

async function boot(): Promise<Booted> {
  const config = loadConfig(process.env);
  cookieSecure = config.session.cookieSecure;
  const logger = createLogger(config.log);
  // As the server says at its start: a misspelt setting in serverless.yml's environment is otherwise ignored unheard.
  for (const warning of unknownVariables(process.env)) logger.warn(warning, 'Config');
  const app = await createApp(config, logger, instanceId);
  const { calls, redisCommands } = app.get<KuraStores>(KURA_STORES);
  const fastify = app.getHttpAdapter().getInstance();
  // Requests reach Fastify through an in-memory socket that knows nothing of TLS; API Gateway ends TLS and says
  // so in X-Forwarded-Proto. Without this every request looks like plain http and the CSRF guard refuses the
  // API's own https pages. (A cross-site page cannot set that header: it is not a CORS-safelisted one.)
  fastify.addHook('onRequest', async (request, reply) => {
    (request.raw.socket as { encrypted?: boolean }).encrypted = request.headers['x-forwarded-proto'] === 'https';
    if (request.headers[UNROUTABLE] !== undefined) return reply.callNotFound();
  });
  return {
    app,
    // `parseCommaSeparatedQueryParams` off: on payload 2.0 it decodes a parameter's name a second time when its
    // value holds a comma (API Gateway joins repeated parameters so), and a name that decodes to a lone `%`
    // (`?%25=a,b`) threw a URIError out of the handler: any client could fail an invocation, tripping the
    // function-errors alarm (the review of 2026-12-05). Kura reads no query parameter; Fastify still parses the URL's.
    serve: awsLambdaFastify(withUnvalidatedInject(fastify), { callbackWaitsForEmptyEventLoop: false, parseCommaSeparatedQueryParams: false }),
    metrics: calls || redisCommands ? new InvocationMetrics({ calls, redisCommands }) : undefined,
  };
}

/**
 * Each event reaches Fastify through light-my-request's `inject`, which by default checks the request's options
 * against a JSON schema on every call. @fastify/aws-lambda builds those options from the event itself, so the
 * check can never fail: Kura turns it off (`validate: false`, a light-my-request option), and the Lambda bundle
 * leaves the schema's validator out (16 KiB; scripts/lambda-bundle-options.mjs, `injectValidatorLeftOut`).
 */
function withUnvalidatedInject(fastify: FastifyInstance): FastifyInstance {
  const inject = ((options: InjectOptions, callback: (error: Error | null, response?: unknown) => void) =>
    fastify.inject({ ...options, validate: false } as InjectOptions, callback as never)) as FastifyInstance['inject'];
  return Object.create(fastify, { inject: { value: inject } }) as FastifyInstance;
}

/**
 * How long before the function's timeout a request's store calls are cut (`withRequestDeadline`): calls each slow
 * but within their own bounds could add up past the timeout, and Lambda would end the invocation with no answer
 * of Kura's (API Gateway's own error, no `Retry-After`, counted by the function-errors alarm). Cut a second before
 * (a quarter of the time left, when that is less: a function given a second or two must still serve), the request
 * answers 503 with `Retry-After` itself, with time left to send it.
 */
const DEADLINE_MARGIN_MS = 1000;
const deadlineOf = (left: number) => left - Math.min(DEADLINE_MARGIN_MS, left / 4);

export async function handler(event: APIGatewayProxyEventV2, context: Context) {
  booted ??= boot().catch((error: unknown) => {
    booted = undefined; // let the next invocation try again rather than caching a failure
    throw error;
  });
  const deadline = Date.now() + deadlineOf(context.getRemainingTimeInMillis());
  const ready = await bootedBy(booted, deadline);
  const { request, requestId } = prepared(event, context.awsRequestId);
  if (!ready) return unavailableWhileBooting(requestId, context.awsRequestId);
  const { serve, metrics } = ready;
  const result = await withRequestDeadline(deadline - Date.now(), () => serve(request, context));
  metrics?.flush({ requestId, awsRequestId: context.awsRequestId }, result.statusCode);
  return result;
}

/**
 * The booted app, or `undefined` if it is not ready by the deadline. A cold start waits for the store's first
 * connection (up to 2 s, storage.module.ts), which a store that does not answer holds for all of it: with the boot
 * under no deadline, a function given 3 s (Lambda's default) ended a cold invocation with Lambda's own timeout, no
 * answer of Kura's (an outside review, 2026-12-07: 1 cold login in 3 timed out with Redis paused). The boot goes on;
 * the next invocation finds it further along.
 */
async function bootedBy(boot: Promise<Booted>, deadline: number): Promise<Booted | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()))));
  try {
    return await Promise.race([boot, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** What a request gets when the app is not ready by its deadline: the 503 a store outage gets once it is. */
function unavailableWhileBooting(requestId: string, awsRequestId: string) {
  // A line as Nest's JSON logger writes them (the app's own logger is not there yet).
  const message = "503 store-unavailable: Kura's start is waiting for the store, which has not answered by this request's deadline";
  console.warn(JSON.stringify({ level: 'warn', timestamp: Date.now(), message, context: 'Lambda', requestId, awsRequestId }));
  // The problem and its Retry-After from the one table the app answers a store outage with (@kura/session's).
  const { status, type, title, detail, headers } = sessionProblemOf(new StoreUnavailableError('start'))!;
  return {
    statusCode: status,
    headers: {
      'content-type': 'application/problem+json; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
      ...answerSecurityHeaders(cookieSecure),
      [REQUEST_ID_HEADER]: requestId,
      [INSTANCE_HEADER]: instanceId,
    },
    body: JSON.stringify({ type, title, status, detail }),
  };
}

/**
 * Ends this environment's app and its store connections (a Redis client would otherwise keep reconnecting to a
 * server that went away); the next invocation boots a new one. For tests, and for a runtime that announces its end.
 */
export async function shutdown(): Promise<void> {
  const ending = booted;
  booted = undefined;
  const app = await ending?.then(({ app }) => app, () => undefined);
  await app?.close();
}

/**
 * Set by this handler alone (one a caller sends is dropped): the event's path is one Fastify would see rewritten, and
 * the request is answered as no route, as the server answers it. @fastify/aws-lambda hands the path to
 * light-my-request, which parses it as a browser would (WHATWG URL): dot segments resolved (`/x/%2e%2e/auth/me`,
 * `/auth/./me`), `\` read as `/`, tabs and newlines dropped. The server routes the path as sent, so there those
 * paths match no route (404), while on Lambda they reached `/auth/me`: a WAF rule or an API Gateway route keyed on
 * the path would have seen one path and Kura served another (an outside review, 2026-12-07).
 */
const UNROUTABLE = 'x-kura-unroutable';

function rewrittenByParsing(path: string): boolean {
  // As light-my-request parses it (lib/parse-url.js): a path beginning `//` is taken whole, not as a host.
  const parsed = path.startsWith('//') ? new URL(`http://localhost${path}`) : new URL(path, 'http://localhost');
  return parsed.pathname !== path;
}

/**
 * The event Fastify is given, and the request's id. The id, on Lambda: the caller's `X-Request-Id` when it is well
 * formed (as on any server), else this invocation's id. That id is unique per request on AWS and under
 * serverless-offline, whose `requestContext.requestId` (what `@fastify/aws-lambda` would use) is one constant for
 * every request; it is the id of Lambda's own START and REPORT lines, and the EMF line carries both. (A malformed
 * one, or two that API Gateway joined with a comma, got a random id instead, which no line of Lambda's carried.)
 */
function prepared(event: APIGatewayProxyEventV2, awsRequestId: string): { request: APIGatewayProxyEventV2; requestId: string } {
  const path = (event as { path?: string }).path || event.rawPath || '/';
  const unroutable = rewrittenByParsing(path);
  const given = event.headers?.[REQUEST_ID_HEADER];
  if (!unroutable && isWellFormedRequestId(given) && !hasHeaderNamed(event, UNROUTABLE)) {
    return { request: event, requestId: given };
  }
  // A REST API (payload 1.0) keeps the header's case as the client sent it (`X-Request-Id`); an HTTP API lowers it.
  const headers: Record<string, string | undefined> = {};
  let caller: string | undefined;
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower === REQUEST_ID_HEADER) caller = value;
    else if (lower !== UNROUTABLE) headers[name] = value;
  }
  const requestId = isWellFormedRequestId(caller) ? caller : awsRequestId;
  return { request: { ...event, headers: { ...headers, [REQUEST_ID_HEADER]: requestId, ...(unroutable ? { [UNROUTABLE]: '1' } : {}) } }, requestId };
}

function hasHeaderNamed(event: APIGatewayProxyEventV2, lowerName: string): boolean {
  for (const name in event.headers) if (name.toLowerCase() === lowerName) return true;
  return false;
}
