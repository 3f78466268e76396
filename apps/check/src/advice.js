// What to do about a verdict: the known remedy for the session the app uses, told by the cookie it sets (each
// framework names its session cookie by default), or the general one. Advice, never part of the verdict.

const KURA_CONNECT =
  "KuraStore (@kura/connect, on DynamoDB or Redis; from connect-redis or connect-dynamodb, migrateFrom moves the sessions without logging anyone out, behind round robin too when rolled out in two steps (move: false first); not on the npm registry yet, so never npm install @kura/connect by name: in Kura's clone, npm run pack:packages packs it into .packs/, and libs/connect/README.md says which tarballs to install)";

/** The second cause of express-session's and @fastify/session's: a store already, and a secret made at start. */
const SAME_SECRET =
  'every replica needs the same secret (from the environment, never made at start: a cookie signed by one replica is refused by the others) and must read the store itself, not a copy of it kept in each process';

/**
 * express-session's and @fastify/session's remedy, which the cookie cannot tell: it looks the same with or without a
 * store, and an app already on a shared store (KuraStore, connect-redis) whose secret is made at start was told
 * first to keep its sessions in a store. Two causes of equal weight, unless every replica was seen connected to the
 * same servers while it served (`peers`, replica.js sharedPeers): then the secret comes first, if the sessions are
 * there (an app may reach a shared database for its accounts and keep its sessions in memory all the same).
 * `memory`: where the framework keeps sessions without a store.
 */
const storeOrSecret =
  (memory) =>
  (peers = []) =>
    peers.length > 0
      ? `every replica was connected to ${peers.join(' and ')} while it served: if the sessions are there (a store every replica reaches), the cause is the secret: ${SAME_SECRET}; if not, ${memory}: give them a store every replica reaches, such as ${KURA_CONNECT}, and every replica the same secret`
      : `which of two causes it is, the cookie cannot tell: (1) without a store every replica reaches, ${memory}: give it one, such as ${KURA_CONNECT}; (2) with such a store already, ${SAME_SECRET}`;

/**
 * The cookie `session` is Flask's default, and on Node @fastify/secure-session's (NestJS's Fastify recipe) and
 * cookie-session's (Express): an app seen running on Node was told of Flask only (an outside review's NestJS app).
 */
const SESSION_ON_NODE =
  "@fastify/secure-session (NestJS's Fastify recipe) and cookie-session (Express) keep the session in the cookie itself, encrypted or signed with a key: every replica needs the same key (from the environment, never made at start: secure-session's key, or its secret and salt; cookie-session's keys)";

/**
 * The frameworks a session cookie's default name tells, each with its remedy (`node`: the remedy instead for an app
 * seen running on Node). `name`: a cookie name or a test of one;
 * `remedy`: the text, or one made from the servers every replica was connected to (`peers`).
 * @type {{ name: string | ((cookie: string) => boolean), framework: string, remedy: string | ((peers: string[]) => string), node?: string }[]}
 */
const BY_COOKIE = [
  {
    name: 'connect.sid',
    framework: 'express-session',
    remedy: storeOrSecret("it keeps sessions in each process's memory (MemoryStore), and a file store (session-file-store) on each replica's own disk"),
  },
  {
    name: 'sessionId',
    framework: '@fastify/session',
    remedy: storeOrSecret("it keeps sessions in each process's memory"),
  },
  {
    name: 'PHPSESSID',
    framework: 'PHP',
    remedy: "the default handler writes a file per session on the replica that made it (session.save_path): set session.save_handler = redis with phpredis, or a database handler every replica reaches (or, if session.save_path is a volume every pod mounts in production, NFS or EFS, name it in the scenario's shared and run again)",
  },
  {
    name: 'sessionid',
    framework: 'Django',
    remedy: 'SESSION_ENGINE keeps sessions where it says: with the database (the default), one database every replica uses, not a SQLite file in each; with cache or cached_db, a shared cache (Redis, Memcached), not LocMemCache; with signed_cookies, one SECRET_KEY for every replica',
  },
  {
    name: 'session',
    framework: 'Flask',
    remedy: "Flask's session is a cookie signed with SECRET_KEY: every replica, and every worker, needs the same one (from the environment or a Secret, never made at start); server-side sessions (Flask-Session) need a store every replica reaches, such as Redis",
    node: SESSION_ON_NODE,
  },
  {
    name: (cookie) => cookie === 'koa.sess' || cookie === 'koa:sess',
    framework: 'koa-session',
    remedy: `koa-session keeps the session in the cookie itself, signed with app.keys: every replica needs the same keys (from the environment, never made at start); with its store option, the store must be one every replica reaches (Redis, a database)`,
  },
  {
    name: (cookie) => /^_[\w-]+_session$/.test(cookie),
    framework: 'Rails',
    remedy: 'the cookie store signs and encrypts with secret_key_base: one for every replica (SECRET_KEY_BASE or RAILS_MASTER_KEY); a cache or database store must be one every replica reaches (Redis, the database), not :memory_store or a file store',
  },
  {
    name: 'JSESSIONID',
    framework: 'a Java servlet container',
    remedy: "HttpSession lives in the JVM that made it: Spring Session with Redis or JDBC, or the container's own session replication",
  },
  {
    name: 'laravel_session',
    framework: 'Laravel',
    remedy: 'SESSION_DRIVER=redis or database (not file or array), and one APP_KEY for every replica',
  },
  {
    name: (cookie) => cookie === '.AspNetCore.Session' || cookie.startsWith('.AspNetCore.'),
    framework: 'ASP.NET Core',
    remedy: 'session state in a distributed cache every replica reaches (AddStackExchangeRedisCache), and the Data Protection keys shared by every replica (PersistKeysToStackExchangeRedis or a shared folder)',
  },
];

const GENERAL_START = "keep sessions, and anything else a user's next request needs, where every replica reaches them: a store such as Redis, a database or DynamoDB";
const GENERAL_END = 'and give every replica the same signing keys, from the environment, never made at start';
/** The general remedy; Kura's own packages named only for an app that runs on Node (or an image, which may). */
const general = (node) => (node === false ? `${GENERAL_START} (your framework's session store for one of them), ${GENERAL_END}` : `${GENERAL_START} (for express-session and @fastify/session: ${KURA_CONNECT}; for NestJS: @kura/session), ${GENERAL_END}`);

const LOGIN_STATE =
  "the login itself failed where it reached another replica than the request before it (the login page, or the setup that registered the account), and nothing else was lost: what the login needs from an earlier request (the account setup made, kept in one replica's memory or file; a CSRF token kept in the session, a captcha's answer, a login flow's state) lives in one replica: keep accounts in a database every replica reaches, and the rest where every replica reads it (the session, in a store every replica reaches), or make it need none (a signed double-submit cookie)";

const LOGOUT_COPIES =
  "a logout must reach every replica: it ended the session on some, while others still took it from a copy each keeps for itself (sessions cached in the process, a list of ended sessions each keeps): read the shared store on every request, or make a logout reach every replica's copy (a message every replica hears, as Redis pub/sub), or keep such copies a few seconds at most";

const APP_STATE =
  "the session itself was kept (every login, check and write passed wherever it landed): what was lost is what the write step stored, which lives in one replica or process (its memory, a cache, a local file): keep it in the session, or in a store every replica reaches (Redis, a database, DynamoDB)";

/** What becomes of a signed token at logout, and the remedy. */
const SIGNED_TOKEN =
  'stays valid until it expires wherever it is sent. Keep the session on the server, in a store every replica reads (Redis, a database, DynamoDB), or a list of revoked tokens every replica reads, and expire tokens soon';
const LOGOUT = `a logout must end the session where requests are checked: a signed token (a JWT, a signed session cookie) ${SIGNED_TOKEN}`;

/**
 * A logout that did not end a session of a cookie no framework's default names, where every replica was connected to
 * the same servers: the sessions may be there already (an outside review's app kept them in Redis and its logout
 * only cleared the cookie, and was told of signed tokens and to keep the session on the server).
 */
const logoutWithPeers = (peers) =>
  `a logout must end the session where requests are checked: every replica was connected to ${peers.join(' and ')} while it served: if the sessions are kept there, the logout must delete the session there, not only clear the cookie; if the session is a signed token, it ${SIGNED_TOKEN}`;

const WRITE_STATE =
  "every failure was a write refused as a CSRF check refuses one (403, 419, 422), and nothing else was lost: the token the write sends back was made by another replica, which keeps it for itself (its memory, or a key made at start): keep it in the session, in a store every replica reaches, or sign it with a key every replica shares (a double-submit cookie)";

/**
 * How a logout ends the session, by the framework's cookie: for the frameworks whose default session lives in a
 * signed cookie, what keeps it on the server; for those whose session is on the server already (`server`), the call
 * that ends it there (a logout that only clears the cookie leaves it valid: an outside review's connect-redis app).
 */
const LOGOUT_BY_COOKIE = [
  { name: 'connect.sid', server: true, remedy: "express-session keeps the session in its store: the logout must end it there, req.session.destroy(), not only clear the cookie" },
  { name: 'sessionId', server: true, remedy: '@fastify/session keeps the session in its store: the logout must end it there, await request.session.destroy(), not only clear the cookie' },
  { name: 'PHPSESSID', server: true, remedy: "PHP keeps the session on the server: the logout must end it there, session_destroy(), not only clear the cookie" },
  { name: 'JSESSIONID', server: true, remedy: 'the servlet container keeps the session on the server: the logout must end it there, session.invalidate() (Spring Security: its logout does), not only clear the cookie' },
  { name: 'laravel_session', server: true, remedy: 'Laravel keeps the session on the server with its redis, database or file driver: the logout must end it there, $request->session()->invalidate(), not only clear the cookie' },
  {
    name: 'session',
    remedy: "Flask's default session is the signed cookie itself: Flask-Session keeps it server-side (SESSION_TYPE redis, one Redis every replica reaches)",
    node: `@fastify/secure-session (NestJS's Fastify recipe) and cookie-session (Express) keep the session in the cookie itself, which no logout can end on the server: keep it on the server instead, in a store every replica reads: in NestJS, @kura/session (Kura's sessions, ended on every replica at logout); on Fastify, @fastify/session with ${KURA_CONNECT}; on Express, express-session with it`,
  },
  { name: (cookie) => cookie === 'koa.sess' || cookie === 'koa:sess', remedy: "koa-session's default keeps the session in the cookie itself: give it a store every replica reaches (its store option, on Redis or a database), and ctx.session = null then ends it there" },
  { name: (cookie) => /^_[\w-]+_session$/.test(cookie), remedy: "Rails' default cookie store keeps the session in the cookie: a cache store on Redis or the activerecord-session_store ends it on the server" },
  { name: 'sessionid', remedy: "Django's signed_cookies engine keeps the session in the cookie: the db or cache SESSION_ENGINE ends it on the server" },
];

/** Whether `name` (a cookie name, or a test of one) names `cookie`. */
const names = (name, cookie) => (typeof name === 'string' ? cookie === name : name(cookie));

/** For an image, ahead of the rest: what whoever runs it can do without its source, and whom the rest is for. */
const IMAGE =
  "for an image you did not build: until it changes, run it as a single replica or behind a balancer with session affinity (which still loses sessions when a replica goes); if it reads its session secret or its store's address from the environment, give every replica the same through `env` (and `network`) and run kura-check again; the steps below are for whoever builds it";

/**
 * What to do, in a few lines: nothing for a stateless app whose logout works (or was not tried).
 * @param {{ verdict: string, logout?: { effective: boolean | null, stillIn?: unknown[], endedOn?: unknown[], replicas?: unknown[] }, sessionCookies?: string[], image?: boolean, node?: boolean, peers?: string[] }} json the run, as `toJSON` gives it (`image`: the app was an image; `node`: whether its start command runs Node, undefined where unknown; `peers`: the servers every replica was connected to)
 * @returns {string[]}
 */
export function nextStepsOf({ verdict, logout, sessionCookies = [], evidence = [], image = false, node, peers = [] }) {
  const steps = [];
  // Someone else's image: the fixes below are its builders'; what its runner can do is first.
  if (image && verdict !== 'stateless') steps.push(IMAGE);
  // Only the read of what a step wrote failed, never the login, the check or the write itself: the session was kept
  // everywhere, and what was lost is the app's own state (a cart in one process's memory), not its session.
  // A read answered as to someone not logged in (401, a redirect to the login) lost the session, not what was written
  // (an outside review: "the session itself was kept" of a read answered 401 "not logged in").
  const onlyStateLost = evidence.length > 0 && evidence.every(({ step, status }) => step === 'read' && status !== 401 && !(status >= 300 && status < 400));
  // Only writes failed, each as a CSRF check refuses: the token, kept per replica, not the session.
  const onlyWritesRefused = evidence.length > 0 && evidence.every(({ step, status }) => step === 'write' && [403, 419, 422].includes(status));
  // Only logins failed: what the login needs (an account setup registered on one replica, a CSRF token kept per
  // replica), not the session after it.
  const onlyLoginFailed = evidence.length > 0 && evidence.every(({ step }) => step === 'login');
  if (verdict !== 'stateless' && onlyStateLost) steps.push(APP_STATE);
  else if (verdict !== 'stateless' && onlyLoginFailed) steps.push(LOGIN_STATE);
  else if (verdict !== 'stateless' && onlyWritesRefused) steps.push(WRITE_STATE);
  else if (verdict !== 'stateless') {
    const known = BY_COOKIE.filter(({ name }) => sessionCookies.some((cookie) => names(name, cookie)));
    if (known.length === 0) steps.push(general(node));
    for (const { name, framework, remedy, node: onNode } of known) {
      const cookie = typeof name === 'string' ? name : sessionCookies.find(name);
      if (onNode && node === true) steps.push(`the cookie ${cookie} is the session cookie of ${onNode}`);
      else steps.push(`the cookie ${cookie} is the session cookie ${framework} sets by default: ${typeof remedy === 'function' ? remedy(peers) : remedy}${onNode && node === undefined ? `; on Node, of ${onNode}` : ''}`);
    }
  }
  // Ended on some replicas that took it, still taken on others: their own copies, not a signed token (which every
  // replica that takes it still takes: on one replica only where each has its own key, as an outside review's Koa app).
  if (logout?.effective === false && logout.endedOn?.length > 0 && logout.stillIn?.length > 0) steps.push(LOGOUT_COPIES);
  else if (logout?.effective === false) {
    const known = LOGOUT_BY_COOKIE.find(({ name }) => sessionCookies.some((cookie) => names(name, cookie)));
    const remedy = known?.node && node === true ? known.node : known?.node && node === undefined ? `${known.remedy}; on Node, ${known.node}` : known?.remedy;
    steps.push(known?.server ? `a logout must end the session where requests are checked: ${remedy}` : known ? `${LOGOUT}; ${remedy}` : peers.length > 0 ? logoutWithPeers(peers) : LOGOUT);
  }
  return steps;
}
