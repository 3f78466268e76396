// express-session + Kura's KuraStore (@kura/connect) on DynamoDB, or with REDIS_URL on Redis (@kura/redis's
// RedisConnectSessionStore), configured like the anchor (resave: false, saveUninitialized: false, the same cookie). Session data is kept as top-level session keys, as KuraStore's
// README advises: a save writes only the keys its request changed, so concurrent updates of different keys keep.
import express from 'express';
import session from 'express-session';
import { announce, settings, verifyLogin } from './common.mjs';
import { kuraStore } from './kura-store.mjs';

const store = await kuraStore();
const app = express();
app.use(
  session({
    store,
    secret: settings.secret,
    name: 'sid',
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: false, maxAge: 30 * 60 * 1000 },
  }),
);
app.use(express.json({ type: ['application/json', 'application/merge-patch+json'] }));

const dataOf = (s) => Object.fromEntries(Object.entries(s).filter(([key]) => key !== 'cookie' && key !== 'user'));
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
app.get('/session/data', (req, res) => (req.session.user ? res.json(dataOf(req.session)) : res.status(401).json({ status: 401 })));
app.patch('/session/data', (req, res) => {
  if (!req.session.user) return res.status(401).json({ status: 401 });
  Object.assign(req.session, req.body);
  res.json(dataOf(req.session));
});

const server = app.listen(settings.port, settings.host, () => announce(`${settings.host}:${server.address().port}`));
