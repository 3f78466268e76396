import type { IncomingMessage } from 'node:http';
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { type ConsoleLogger, Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { CACHE_HEADER, SESSION_SETTINGS, type SessionSettings } from '@kura/session';
import { AppModule } from './app.module.js';
import { Lifecycle } from './health/lifecycle.js';
import type { AppConfig } from './config/app-config.js';
import { clientErrorHandler } from './http/client-error.js';
import { hostRefusal, refuseWithoutHost } from './http/host-header.js';
import { answerSecurityHeaders } from './http/security-headers.js';
import { notModifiedAnswer } from './http/etag.js';
import { parseJsonBodies } from './http/json-body.js';
import { ProblemDetailsFilter, sendProblem } from './http/problem-details.filter.js';
import { RouteMethods } from './http/route-methods.js';
import { fastifyTrustProxy } from './http/trust-proxy.js';
import { DOCS_PATH, setupOpenApi } from './openapi/openapi.js';
import { KuraLogger } from './observability/kura-logger.js';
import { REQUEST_ID_HEADER, requestIdOf, requestLog, type ResponseObserver } from './observability/request-log.js';
import type { KuraMetrics } from './observability/metrics.js';
import { sessionEventsOf } from './observability/session-events.js';
import { describeStore, KURA_STORES, type KuraStores } from './storage/storage.module.js';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

function noRouteSchemas(): never {
  throw new Error('Kura registers no Fastify route schemas: validate with a zod schema through Nest instead');
}

export function createLogger(config: AppConfig['log']): ConsoleLogger {
  return new KuraLogger({
    json: config.json,
    logLevels: LEVELS.slice(0, LEVELS.indexOf(config.level) + 1),
    prefix: 'Kura',
  });
}

/**
 * Names this copy of the app (a process, or a Lambda execution environment) in a `Kura-Instance` response
 * header, so that a test or an operator can see which replica or invocation served a request.
 */
export const INSTANCE_HEADER = 'kura-instance';

/**
 * Builds the Kura application, ready to serve; the one factory behind every entry point (the HTTP server
 * in `main.ts`, the Lambda handler in `lambda.ts`, tests). It does not listen and makes no network call.
 */
export async function createApp(
  config: AppConfig,
  logger = createLogger(config.log),
  instanceId: string = randomUUID(),
  metrics?: KuraMetrics,
): Promise<NestFastifyApplication> {
  logger.log(await describeStore(config.store), 'Store');
  if (config.http.trustProxy === true) {
    logger.warn(
      'KURA_TRUST_PROXY=true: every proxy hop is trusted, so any client chooses its own address (login limits, session list); set a hop count or the proxy addresses unless you control every hop',
      'Http',
    );
  }
  // What every answer gets (Kura's headers, the access line, the count), for those Fastify gives outside every route;
  // set once the app is built.
  let outsideRoutes: ((request: FastifyRequest, reply: FastifyReply) => void) | undefined;
  const observers = [requestLog(logger, config.log), metrics?.observeHttp].filter((observer) => observer !== undefined);
  const told: ResponseObserver | undefined =
    observers.length === 0
      ? undefined
      : (answered) => {
          for (const observer of observers) observer(answered);
        };
  const adapter = new FastifyAdapter({
    bodyLimit: config.http.bodyLimitBytes,
    trustProxy: fastifyTrustProxy(config.http.trustProxy),
    // Node's defaults let a slow client hold a socket for minutes.
    requestTimeout: 30_000,
    keepAliveTimeout: config.http.keepAliveTimeoutSeconds * 1000,
    // While closing, Fastify answers a request that arrives on a kept-alive connection with its own bare 503,
    // which a balancer does not retry for a PATCH or POST. A request that was read is served in full instead
    // (with `Connection: close`); the stores close only after the last one (test/rolling-restart).
    return503OnClosing: false,
    // Bodies are validated by zod schemas in Nest and replies serialised with JSON.stringify: Kura gives Fastify
    // no route schemas, so Fastify's own compilers (Ajv, fast-json-stringify) are never needed. Saying so here
    // keeps them from being loaded, which the Lambda bundle relies on to leave them out (faster cold starts).
    schemaController: { compilersFactory: { buildValidator: noRouteSchemas, buildSerializer: noRouteSchemas } },
    genReqId: (request: IncomingMessage) => requestIdOf(request.headers),
    // A URL the router cannot take (undecodable, an over-long parameter) is answered before Nest sees the
    // request, by default with Fastify's own body, which quotes the URL: answer it as every other error. Fastify
    // runs no hook for it (it belongs to no route), so it gets what the hooks below give here.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      outsideRoutes?.(request, reply);
      sendProblem(request, reply, error, new Logger('Http'));
    },
    // And what Node's HTTP parser refuses before Fastify routes it (headers over 16 KB: 431), the same way.
    clientErrorHandler: clientErrorHandler({ header: INSTANCE_HEADER, id: instanceId }, told),
    // Node answers an HTTP/1.1 request without Host with a bare 400 before Fastify sees it, and keeps the first of
    // two Host lines (or Authorization, Content-Type...): Kura answers both 400, as every other error
    // (refuseWithoutHost, below), and a header sent twice is read as both values, joined, never as one of them.
    http: { requireHostHeader: false, joinDuplicateHeaders: true },
    // Kura has no Nest middleware: without @fastify/middie, no hook of its runs on every request, and the Lambda
    // bundle leaves it out (scripts/lambda-bundle-options.mjs, nestPartsLeftOut).
    skipMiddie: true,
  });
  // Fastify's own JSON parser only: Nest's extra form parser would let any site post a login form (login CSRF).
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forConfig(config, sessionEventsOf(logger, metrics?.sessionEvents)), adapter, {
    logger,
    bodyParser: false,
  });

  const fastify = app.getHttpAdapter().getInstance();
  // JSON is the only body Kura reads: anything else is 415, not a string for the schema to puzzle over.
  fastify.removeContentTypeParser('text/plain');
  parseJsonBodies(fastify);
  // Every path's methods, as Nest registers the routes (at init), for the 405s the error filter answers.
  const routes = new RouteMethods();
  fastify.addHook('onRoute', (route) => routes.add(route.method, route.url));
  fastify.addHook('onRequest', refuseWithoutHost((request, reply, error) => sendProblem(request, reply, error, new Logger('Http'))));
  // Nothing Kura answers outside the explorer's static files may be cached by browsers or proxies.
  const lifecycle = app.get(Lifecycle);
  const securityHeaders = answerSecurityHeaders(config.session.cookieSecure);
  const kuraHeaders = (request: FastifyRequest, reply: FastifyReply) => {
    reply.header(INSTANCE_HEADER, instanceId);
    reply.header(REQUEST_ID_HEADER, request.id);
    reply.headers(securityHeaders);
    // While closing, ask every client to reconnect (elsewhere) after this response, so no kept-alive
    // connection is left for the close to cut while a request is on its way (see lastCall).
    if (lifecycle.closing) reply.header('connection', 'close');
    // Not set twice: the session guard has set it already on authenticated responses (`hasHeader` also sees a
    // header set on Node's response).
    if (!reply.hasHeader('cache-control') && !request.url.startsWith(`/${DOCS_PATH}`)) {
      reply.header('cache-control', 'no-store');
    }
  };
  const observe = (request: FastifyRequest, reply: FastifyReply) =>
    told?.({ id: request.id, method: request.method, route: request.routeOptions.url ?? '(no route)', status: reply.statusCode, seconds: reply.elapsedTime / 1000 });
  // Hooks on every response take `done` rather than being async: Fastify then goes on at once instead of a
  // promise's turn later.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    kuraHeaders(request, reply);
    // A client that gave up waiting (its timeout, or a balancer's, shorter than the store's) gets no response, and
    // Fastify runs no onResponse for it: it is logged and counted here, with the answer it was given (in an outage, a
    // 503, which KuraStoreFailing counts).
    if (reply.raw.destroyed) observe(request, reply);
    done(null, notModifiedAnswer(request, reply, payload));
  });
  if (told) {
    fastify.addHook('onResponse', (request, reply, done) => {
      observe(request, reply);
      done();
    });
  }
  outsideRoutes = (request, reply) => {
    kuraHeaders(request, reply);
    reply.raw.once('finish', () => observe(request, reply));
  };
  if (metrics) {
    const { calls, redisCommands } = app.get<KuraStores>(KURA_STORES);
    if (calls) metrics.observeStore(calls);
    if (redisCommands) metrics.observeRedis(redisCommands);
  }

  // A page of a trusted origin (KURA_TRUSTED_ORIGINS: another host of the site, app.example.com for api.example.com)
  // calls the API from another origin, which a browser allows only once the API says so (CORS): without it, the
  // origins the guard trusts could not send a JSON request at all (an outside review found the preflight a 404).
  // @fastify/cors, through Nest's adapter, loaded only then, answering those origins alone: given a list, it sent
  // every other origin, and every request without one, the credentials, methods and exposed headers (all but the
  // allowed origin); asked per request, it sends nothing but `Vary: Origin` where the origin is not trusted.
  // Nest runs it before every hook of Kura's, so a request whose Host is refused (http/host-header.ts) gets no CORS
  // answer here: a trusted origin's preflight without Host was answered 204 before the check (a review, 2026-12-07).
  const { trustedOrigins } = config.session;
  if (trustedOrigins.length > 0) {
    const trusted = new Set(trustedOrigins);
    const cors = {
      origin: (origin: string | undefined, answer: (error: Error | null, allowed: string | false) => void) => answer(null, origin !== undefined && trusted.has(origin) ? origin : false),
      credentials: true,
      methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['content-type', 'authorization', 'if-match', 'if-none-match', REQUEST_ID_HEADER, CACHE_HEADER],
      exposedHeaders: ['etag', 'retry-after', REQUEST_ID_HEADER, CACHE_HEADER, INSTANCE_HEADER],
      maxAge: 600,
    };
    const none = { origin: false };
    app.enableCors({ delegator: (request: FastifyRequest, answer: (error: Error | null, options: object) => void) => answer(null, hostRefusal(request) === undefined ? cors : none) });
  }

  // Bodies are checked where they are declared (`@ValidBody(schema)`, http/valid-body.ts), not by a global pipe.
  app.useGlobalFilters(new ProblemDetailsFilter(routes));
  await setupOpenApi(app, app.get<SessionSettings>(SESSION_SETTINGS).cookie.name, config.http.docsUi);
  await app.init();
  return app;
}
