import type { Server } from 'node:http';
import { CredentialReplacedError, type KuraStore, SessionTooLargeError, StoreUnavailableError } from '@kura/connect';
import express, { type NextFunction, type Request, type Response } from 'express';
import session, { type SessionOptions } from 'express-session';
import { type RunningApp, runningApp } from '../contracts/connect-app.suite.js';

export const SECRET = 'a secret long enough for express-session';
export type Middleware = (req: Request, res: Response, next: NextFunction) => void;

/**
 * The app as its README would have it: express-session with KuraStore, explicit saves, its error handler (`before`:
 * a middleware ahead of express-session, for a test that looks under it).
 */
export function expressApp(store: object, before?: Middleware, settings: Partial<SessionOptions> = {}, { errorHandler = true }: { errorHandler?: boolean } = {}) {
  const app = express();
  if (before) app.use(before);
  app.use(session({ store, secret: SECRET, name: 'sid', resave: false, saveUninitialized: false, cookie: { maxAge: 30 * 60_000, httpOnly: true, sameSite: 'lax', secure: false }, ...settings }));
  app.post('/login', (req: Request, res: Response, next: NextFunction) =>
    req.session.regenerate((error?: unknown) => {
      if (error) return next(error);
      req.session.user = { name: req.query.user };
      if (req.query.maxAgeMs) req.session.cookie.maxAge = Number(req.query.maxAgeMs);
      req.session.save((error?: unknown) => (error ? next(error) : res.json({ user: req.session.user })));
    }),
  );
  app.get('/me', (req, res) => (req.session.user ? res.json({ user: req.session.user }) : res.status(401).json({ status: 401 })));
  app.get('/session', (req, res) => res.json(req.session));
  app.post('/keys/:key', (req: Request, res: Response, next: NextFunction) => {
    req.session[req.params.key!] = req.query.value;
    req.session.save((error?: unknown) => (error ? next(error) : res.json({})));
  });
  app.post('/logout', (req: Request, res: Response, next: NextFunction) => req.session.destroy((error?: unknown) => (error ? next(error) : res.status(204).end())));
  // Every session of the user (KuraStore's userOf option): list them, end the others or all, end one by its handle.
  const kura = store as KuraStore;
  const signedIn = (handler: (user: string, req: Request, res: Response) => Promise<unknown>) => (req: Request, res: Response, next: NextFunction) => {
    const user = (req.session.user as { name?: string } | undefined)?.name;
    if (!user) return void res.status(401).json({ status: 401 });
    handler(user, req, res).catch(next);
  };
  app.get('/sessions', signedIn(async (user, req, res) => res.json((await kura.sessionsOf(user, { current: req.sessionID })).map(({ handle, current }) => ({ handle, current })))));
  app.post('/logout-everywhere', signedIn(async (user, req, res) => res.json({ ended: await kura.destroySessionsOf(user, req.query.others ? { except: req.sessionID } : {}) })));
  app.delete('/sessions/:handle', signedIn(async (user, req, res) => res.status((await kura.destroySessionOf(user, req.params.handle!)) ? 204 : 404).end()));
  // Without it (errorHandler: false), express's own handler answers what the error says.
  // The README's ("Turning an outage into a 503").
  if (errorHandler) app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    const fromTheStore = error instanceof StoreUnavailableError || error instanceof SessionTooLargeError || error instanceof CredentialReplacedError;
    if (!fromTheStore) return next(error);
    if (res.headersSent) return;
    (req as { session: unknown }).session = null;
    if (error instanceof SessionTooLargeError) return void res.status(413).json({ title: 'Content Too Large' });
    if (error instanceof CredentialReplacedError) return void res.status(401).json({ title: 'Unauthorized' });
    res.status(503).set('Retry-After', String(error.retryAfterSeconds)).json({ title: 'Service Unavailable' });
  });
  return app;
}

export async function listen(store: object, before?: Middleware, settings?: Partial<SessionOptions>, options?: { errorHandler?: boolean }): Promise<RunningApp> {
  const server = await new Promise<Server>((resolve) => {
    const listening = expressApp(store, before, settings, options).listen(0, '127.0.0.1', () => resolve(listening));
  });
  return runningApp(server);
}

