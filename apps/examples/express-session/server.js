import { randomBytes } from 'node:crypto';
import express from 'express';
import session from 'express-session';
import { CredentialReplacedError, KuraStore, SessionTooLargeError, StoreUnavailableError } from '@kura/connect';

const env = process.env;
const store = new KuraStore({
  tableName: env.SESSIONS_TABLE ?? 'kura-example-sessions',
  connection: { region: env.AWS_REGION ?? 'us-east-1', endpoint: env.DYNAMODB_ENDPOINT },
  userOf: (session) => session.user, // whose each session is: lets the store end them all (below)
});
if (env.KURA_CREATE_TABLES === 'true') await store.ensureTable();
if (!env.SESSION_SECRET) console.warn('SESSION_SECRET is not set: a random one is used, so no other process accepts these cookies');

const app = express();
app.use(express.json());
app.use(session({
  store,
  secret: env.SESSION_SECRET ?? randomBytes(32).toString('base64url'),
  resave: false,
  saveUninitialized: false,
  cookie: { maxAge: 30 * 60_000, httpOnly: true, sameSite: 'lax', secure: 'auto' },
}));

// Login by name only: a demo of the session, not of accounts. Your app checks credentials here.
app.post('/login', (req, res, next) => {
  const user = req.body?.user;
  if (typeof user !== 'string' || user === '') return res.status(400).json({ title: 'user is required' });
  // A login never keeps the session the client came with.
  req.session.regenerate((error) => {
    if (error) return next(error);
    req.session.user = user;
    req.session.save((error) => (error ? next(error) : res.json({ user })));
  });
});
app.get('/me', (req, res) => (req.session.user ? res.json({ user: req.session.user }) : res.status(401).json({ title: 'Unauthorized' })));
app.post('/logout', (req, res, next) =>
  req.session.destroy((error) => (error ? next(error) : res.clearCookie('connect.sid').status(204).end())),
);

// Every session of this user, on every process: "log out everywhere" (a lost phone, a password changed).
// With { except: req.sessionID } and without the destroy, "log out my other sessions" instead.
app.post('/logout-everywhere', (req, res, next) => {
  if (!req.session.user) return res.status(401).json({ title: 'Unauthorized' });
  store.destroySessionsOf(req.session.user, { except: req.sessionID }).then(
    (others) => req.session.destroy((error) => (error ? next(error) : res.clearCookie('connect.sid').json({ ended: others + 1 }))),
    next,
  );
});

// DynamoDB could not answer: 503, and when to try again (@kura/connect's README, "Turning an outage into a 503").
app.use((error, req, res, next) => {
  const fromTheStore = error instanceof StoreUnavailableError || error instanceof SessionTooLargeError || error instanceof CredentialReplacedError;
  if (!fromTheStore) return next(error);
  if (error instanceof StoreUnavailableError) console.warn(`session store: ${error.reason}`); // why, in one line
  if (res.headersSent) return; // a save as the response ended failed: the answer is out, nothing was saved
  req.session = null; // no second save as this answer ends, and no cookie for a session that was not stored
  if (error instanceof SessionTooLargeError) return res.status(413).json({ title: 'Content Too Large' });
  if (error instanceof CredentialReplacedError) return res.status(401).json({ title: 'Unauthorized' });
  res.status(503).set('Retry-After', String(error.retryAfterSeconds)).json({ title: 'Service Unavailable' });
});

const server = app.listen(Number(env.PORT ?? 3000), env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address();
  console.log(`listening on http://${address}:${port}`);
});
process.once('SIGTERM', () => server.close(() => store.close()));
