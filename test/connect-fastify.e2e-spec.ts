import { connectAppSuite, type SessionFramework } from './contracts/connect-app.suite.js';
import { onEveryStorage } from './support/connect-storages.js';
import { fastifyApp } from './support/fastify-session-app.js';

const fastifySessionFramework: SessionFramework = {
  name: '@fastify/session',
  errorHandler: 'setErrorHandler',
  start: fastifyApp,
  startWithoutHandler: (store) => fastifyApp(store, { errorHandler: false }),
  // @fastify/cookie signs as `<sid>.<signature>`.
  sessionIdOf: (signed) => signed.slice(0, signed.lastIndexOf('.')),
};

onEveryStorage('f', (storage) => connectAppSuite(fastifySessionFramework, storage));
