// One system of `npm run bench:store-path`, in this process: express-session's steady GET as it drives its store
// (store.get, then createSession, the Session's touch and store.touch), with a Redis client that answers at once.
// What is measured is the CPU of the store's own code and of express-session's handling of what it returns: no
// socket, no Redis, no HTTP. Prints one JSON line: { system, nsPerRequest: [per round] }.
//
// STORE=kura | connect-redis | bound (connect-redis with disableTouch: one GET and nothing else)
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const session = require('express-session');
const { RedisStore } = await import('connect-redis');
const { KuraStore } = await import('../../dist/libs/connect/src/index.js');
const { RedisConnectSessionStore } = await import('../../dist/libs/redis/src/index.js');

const system = process.env.STORE;
const [warmup, requests, rounds] = [Number(process.env.WARMUP), Number(process.env.REQUESTS), Number(process.env.ROUNDS)];
const sid = 'bench-session-id-000000000000000000';
const user = { id: 'u1', email: 'ada@example.com' };
const MAX_AGE = 30 * 60 * 1000;
const now = Date.now();
// The cookie as express-session stores it (its defaults: path /, httpOnly), expiring in 30 minutes.
const cookie = { originalMaxAge: MAX_AGE, expires: new Date(now + MAX_AGE).toISOString(), secure: false, httpOnly: true, path: '/', sameSite: 'lax' };

let store;
if (system === 'kura') {
  // The HGETALL reply of a session KuraStore wrote on Redis (its hash's fields: see redis-connect-session.store.ts).
  const reply = ['gen', 'bench-generation', 'exp', String(now + MAX_AGE), 'abs', String(now + 86_400_000), 'cookie', JSON.stringify(cookie), 'cs', '[]', 'd:user', JSON.stringify(user)];
  store = new KuraStore({ adapter: new RedisConnectSessionStore({ sendCommand: () => Promise.resolve(reply) }) });
} else {
  const text = JSON.stringify({ cookie, user });
  store = new RedisStore({ client: { get: () => Promise.resolve(text), expire: () => Promise.resolve(1) }, disableTouch: system === 'bound' });
}
// What express-session's middleware does to its store when it is made (generate, and createSession through Store).
session({ store, secret: 'a benchmark secret that is long enough', resave: false, saveUninitialized: false, cookie: { maxAge: MAX_AGE, sameSite: 'lax' } });

/** One steady request, as express-session's middleware and its end of response make it. */
const request = () =>
  new Promise((resolve, reject) => {
    const req = { sessionID: sid, sessionStore: store };
    store.get(sid, (error, sess) => {
      if (error || !sess) return reject(error ?? new Error(`${system}: no session read (did the stored format change? see REPLY in bench/store-path/system.mjs)`));
      store.createSession(req, sess);
      if (req.session.user?.id !== user.id) return reject(new Error(`${system}: the session read lost its user`));
      req.session.touch();
      store.touch(sid, req.session, (failure) => (failure ? reject(failure) : resolve()));
    });
  });

for (let i = 0; i < warmup; i++) await request();
const nsPerRequest = [];
for (let round = 0; round < rounds; round++) {
  // CPU time, not wall time: time the hypervisor steals from this process is not counted.
  const start = process.cpuUsage();
  for (let i = 0; i < requests; i++) await request();
  const used = process.cpuUsage(start);
  nsPerRequest.push(Math.round(((used.user + used.system) * 1000) / requests));
}
console.log(JSON.stringify({ system, nsPerRequest }));
