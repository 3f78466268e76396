// Anchor: Express 5 + express-session + connect-dynamodb, or with REDIS_URL connect-redis, configured as their
// READMEs recommend (resave: false, saveUninitialized: false; connect-redis: `new RedisStore({ client })`).
import express from 'express';
import session from 'express-session';
import connectDynamoDb from 'connect-dynamodb';
import { RedisStore } from 'connect-redis';
import { announce, client, redisClient, redisUrl, settings, verifyLogin } from './common.mjs';

const DynamoDBStore = connectDynamoDb({ session });
const app = express();
app.use(
  session({
    store: redisUrl ? new RedisStore({ client: await redisClient(), disableTouch: process.env.BENCH_DISABLE_TOUCH === '1' }) : new DynamoDBStore({ client, table: settings.sessionsTable }),
    secret: settings.secret,
    name: 'sid',
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: false, maxAge: 30 * 60 * 1000 },
  }),
);
app.use(express.json({ type: ['application/json', 'application/merge-patch+json'] }));

app.post('/auth/login', async (req, res, next) => {
  try {
    const user = await verifyLogin(req.body?.email, req.body?.password);
    if (!user) return res.status(401).json({ status: 401 });
    req.session.regenerate((error) => {
      if (error) return next(error);
      req.session.user = user;
      res.json({ user });
    });
  } catch (error) {
    next(error);
  }
});
app.get('/auth/me', (req, res) => (req.session.user ? res.json({ user: req.session.user }) : res.status(401).json({ status: 401 })));
app.get('/session/data', (req, res) => (req.session.user ? res.json(req.session.data ?? {}) : res.status(401).json({ status: 401 })));
app.patch('/session/data', (req, res) => {
  if (!req.session.user) return res.status(401).json({ status: 401 });
  req.session.data = { ...req.session.data, ...req.body };
  res.json(req.session.data);
});

const server = app.listen(settings.port, settings.host, () => announce(`${settings.host}:${server.address().port}`));
