import { describe, expect, it } from '@jest/globals';
import { nextStepsOf } from './advice.js';
import { toMarkdown, toText } from './report.js';

describe('what to do, after the verdict', () => {
  it.each([
    ['connect.sid', /^the cookie connect\.sid is the session cookie express-session sets by default: .*\(1\) without a store every replica reaches, it keeps sessions in each process's memory \(MemoryStore\).*KuraStore.*never npm install @kura\/connect by name.*npm run pack:packages/],
    ['sessionId', /^the cookie sessionId is the session cookie @fastify\/session sets by default: .*KuraStore/],
    ['PHPSESSID', /^the cookie PHPSESSID is the session cookie PHP sets by default: .*session\.save_handler = redis/],
    ['sessionid', /^the cookie sessionid is the session cookie Django sets by default: .*not a SQLite file in each.*LocMemCache.*one SECRET_KEY/],
    ['session', /^the cookie session is the session cookie Flask sets by default: .*the same one/],
    ['_shop_session', /^the cookie _shop_session is the session cookie Rails sets by default: .*secret_key_base/],
    ['JSESSIONID', /Spring Session/],
    ['laravel_session', /SESSION_DRIVER=redis/],
    ['.AspNetCore.Session', /AddStackExchangeRedisCache/],
  ])('names the remedy of the framework whose session cookie is %s', (cookie, advice) => {
    const steps = nextStepsOf({ verdict: 'needs affinity', sessionCookies: ['csrftoken', cookie] });
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatch(advice);
  });

  it("puts first, for an image, what whoever runs it can do without its source (an outside review: an image's runner was told to npm install a package)", () => {
    const steps = nextStepsOf({ verdict: 'needs affinity', sessionCookies: ['PHPSESSID'], image: true });
    expect(steps).toEqual([expect.stringMatching(/^for an image you did not build: until it changes, run it as a single replica or behind a balancer with session affinity .*through `env` \(and `network`\).*the steps below are for whoever builds it$/), expect.stringMatching(/^the cookie PHPSESSID/)]);
    expect(nextStepsOf({ verdict: 'stateless', sessionCookies: ['PHPSESSID'], image: true })).toEqual([]);
  });

  it('gives the general remedy when no cookie names a framework, or none was set (a token app)', () => {
    for (const sessionCookies of [['state'], [], undefined]) {
      expect(nextStepsOf({ verdict: 'breaks even with affinity', sessionCookies })).toEqual([expect.stringMatching(/^keep sessions, and anything else a user's next request needs, where every replica reaches them/)]);
    }
  });

  it('says nothing for a stateless app whose logout works, or was not tried; a logout that does not end the session has its own step', () => {
    expect(nextStepsOf({ verdict: 'stateless', sessionCookies: ['connect.sid'] })).toEqual([]);
    expect(nextStepsOf({ verdict: 'stateless', logout: { effective: true }, sessionCookies: ['connect.sid'] })).toEqual([]);
    expect(nextStepsOf({ verdict: 'stateless', logout: { effective: null } })).toEqual([]);
    expect(nextStepsOf({ verdict: 'stateless', logout: { effective: false }, sessionCookies: ['token'] })).toEqual([expect.stringMatching(/^a logout must end the session where requests are checked: a signed token \(a JWT, a signed session cookie\) stays valid.*, in a store every replica reads \(Redis, a database, DynamoDB\)/)]);
    // Said with nothing "above" it to point to (a stranger's Flask run, 2026-12-04), and with the framework's own way.
    expect(nextStepsOf({ verdict: 'stateless', logout: { effective: false }, sessionCookies: ['session'] })).toEqual([expect.not.stringContaining('as above')]);
    expect(nextStepsOf({ verdict: 'stateless', logout: { effective: false }, sessionCookies: ['session'] })[0]).toMatch(/Flask-Session keeps it server-side/);
    expect(nextStepsOf({ verdict: 'stateless', logout: { effective: false }, sessionCookies: ['_shop_session'] })[0]).toMatch(/activerecord-session_store/);
    expect(nextStepsOf({ verdict: 'needs affinity', logout: { effective: false }, sessionCookies: ['connect.sid'] })).toHaveLength(2);
  });

  it("blames the app's own state, not the session, when only the read of what was written failed (a cart in one process)", () => {
    const evidence = [{ step: 'read', mode: 'round-robin', phase: 'steady' }];
    // A Flask app whose session cookie is fine, its cart in a per-worker dict (an outside review, 2026-12-06).
    expect(nextStepsOf({ verdict: 'breaks even with affinity', sessionCookies: ['session'], evidence })).toEqual([expect.stringMatching(/^the session itself was kept .*keep it in the session, or in a store every replica reaches/)]);
    // A check or a write that failed may be the session lost: the framework's remedy then.
    for (const step of ['check', 'write', 'login']) {
      expect(nextStepsOf({ verdict: 'needs affinity', sessionCookies: ['session'], evidence: [...evidence, { step }] })[0]).toMatch(/^the cookie session is the session cookie Flask sets/);
    }
  });

  it('gives express-session and @fastify/session two causes of equal weight, a missing store and a secret made at start, which their cookie cannot tell apart', () => {
    // An app already on KuraStore, its secret made at start, was told first to keep its sessions in a store (a
    // newcomer's review, 2026-12-07): the cookie is the same with a store or without one.
    for (const cookie of ['connect.sid', 'sessionId']) {
      const [step] = nextStepsOf({ verdict: 'needs affinity', sessionCookies: [cookie] });
      expect(step).toMatch(/sets by default: which of two causes it is, the cookie cannot tell: \(1\) without a store every replica reaches, .*; \(2\) with such a store already, every replica needs the same secret \(from the environment, never made at start: a cookie signed by one replica is refused by the others\) and must read the store itself, not a copy of it kept in each process$/);
    }
  });

  it('puts the secret first for express-session and @fastify/session when every replica was connected to the same server while it served', () => {
    for (const cookie of ['connect.sid', 'sessionId']) {
      const [step] = nextStepsOf({ verdict: 'needs affinity', sessionCookies: [cookie], peers: ['127.0.0.1:6379'] });
      expect(step).toMatch(/sets by default: every replica was connected to 127\.0\.0\.1:6379 while it served: if the sessions are there \(a store every replica reaches\), the cause is the secret: every replica needs the same secret .*; if not, .*: give them a store every replica reaches, such as KuraStore.*, and every replica the same secret$/);
    }
    // Other frameworks' advice does not change with it.
    expect(nextStepsOf({ verdict: 'needs affinity', sessionCookies: ['PHPSESSID'], peers: ['127.0.0.1:6379'] })).toEqual(nextStepsOf({ verdict: 'needs affinity', sessionCookies: ['PHPSESSID'] }));
  });

  it("names the call that ends a server-side session when a logout did not, not a signed cookie's remedy", () => {
    for (const [cookie, call] of [['connect.sid', 'req.session.destroy()'], ['sessionId', 'request.session.destroy()'], ['PHPSESSID', 'session_destroy()'], ['JSESSIONID', 'session.invalidate()'], ['laravel_session', 'session()->invalidate()']]) {
      const [step] = nextStepsOf({ verdict: 'stateless', logout: { effective: false }, sessionCookies: [cookie] });
      expect(step).toContain(call);
      expect(step).not.toMatch(/signed token/);
    }
  });

  it('is printed after the verdict, and in the report under its own heading', () => {
    const json = { app: 'a', verdict: 'needs affinity', meaning: 'm.', exitCode: 1, replicas: 3, users: 4, seconds: 1, modes: {}, evidence: [], refusedCookies: [], events: [], nextSteps: nextStepsOf({ verdict: 'needs affinity', sessionCookies: ['connect.sid'] }) };
    expect(toText(json).split('\n').slice(-2)).toEqual(['verdict: needs affinity — m.', expect.stringMatching(/^what to do: the cookie connect\.sid is the session cookie express-session sets/)]);
    expect(toMarkdown(json)).toMatch(/\*\*What to do:\*\*\n\n- the cookie connect\.sid is the session cookie express-session sets/);
  });
});

describe('what to do, for what the run saw (an outside review of kura-check, 2026-12-07)', () => {
  it('names Kura\'s packages only for an app that runs on Node, or may (an image)', () => {
    expect(nextStepsOf({ verdict: 'needs affinity', sessionCookies: ['shopsid'], node: false })).toEqual([
      "keep sessions, and anything else a user's next request needs, where every replica reaches them: a store such as Redis, a database or DynamoDB (your framework's session store for one of them), and give every replica the same signing keys, from the environment, never made at start",
    ]);
    expect(nextStepsOf({ verdict: 'needs affinity', sessionCookies: ['shopsid'], node: true })[0]).toMatch(/for express-session and @fastify\/session: KuraStore/);
    expect(nextStepsOf({ verdict: 'needs affinity', sessionCookies: ['shopsid'] })[0]).toMatch(/for express-session and @fastify\/session: KuraStore/);
  });

  it('says a logout that ended the session on some replicas only is their own copies, not a signed token', () => {
    const logout = { effective: false, stillIn: [2, 3], endedOn: [1], replicas: [{}, {}, {}] };
    expect(nextStepsOf({ verdict: 'stateless', logout, sessionCookies: ['sid'] })).toEqual([expect.stringMatching(/^a logout must reach every replica: it ended the session on some, while others still took it from a copy each keeps for itself/)]);
    expect(nextStepsOf({ verdict: 'stateless', logout: { ...logout, stillIn: [1, 2, 3], endedOn: [] }, sessionCookies: ['sid'] })).toEqual([expect.stringMatching(/^a logout must end the session where requests are checked: a signed token/)]);
    // Taken by one replica only (keys made at start), before and after: ended nowhere, so the cookie itself (a review's Koa app).
    expect(nextStepsOf({ verdict: 'needs affinity', logout: { ...logout, stillIn: [2], endedOn: [] }, sessionCookies: ['koa.sess', 'koa.sess.sig'] })).toEqual([
      expect.stringMatching(/^the cookie koa\.sess is the session cookie koa-session sets by default: koa-session keeps the session in the cookie itself, signed with app\.keys: every replica needs the same keys/),
      expect.stringMatching(/^a logout must end the session where requests are checked: a signed token .*; koa-session's default keeps the session in the cookie itself: give it a store every replica reaches/),
    ]);
  });

  // A newcomer's review: NestJS's Fastify recipe (@fastify/secure-session, cookie "session") was told of Flask and Express.
  it("tells a Node app's cookie session from Flask's: @fastify/secure-session and cookie-session, and Kura's packages for a logout", () => {
    const logout = { effective: false, stillIn: [1, 2, 3], endedOn: [], replicas: [{}, {}, {}] };
    const [onNode] = nextStepsOf({ verdict: 'stateless', logout, sessionCookies: ['session'], node: true });
    expect(onNode).toMatch(/@fastify\/secure-session \(NestJS's Fastify recipe\) and cookie-session \(Express\) keep the session in the cookie itself, which no logout can end on the server: .*in NestJS, @kura\/session .*on Fastify, @fastify\/session with KuraStore/);
    expect(onNode).not.toMatch(/Flask/);
    const [notNode] = nextStepsOf({ verdict: 'stateless', logout, sessionCookies: ['session'], node: false });
    expect(notNode).toMatch(/Flask-Session/);
    expect(notNode).not.toMatch(/secure-session/);
    const [unknown] = nextStepsOf({ verdict: 'stateless', logout, sessionCookies: ['session'] });
    expect(unknown).toMatch(/Flask-Session.*; on Node, @fastify\/secure-session/);
    expect(nextStepsOf({ verdict: 'needs affinity', sessionCookies: ['session'], node: true })).toEqual([expect.stringMatching(/^the cookie session is the session cookie of @fastify\/secure-session .*secure-session's key, or its secret and salt/)]);
  });

  // An outside review: PHP's file sessions lost one session after a SIGKILL, its read answered 401 "not logged in",
  // and the advice said the session itself was kept.
  it('says a read answered as to someone not logged in lost the session, not what was written', () => {
    const [step] = nextStepsOf({ verdict: 'loses state on restart', sessionCookies: ['PHPSESSID'], evidence: [{ step: 'read', status: 401 }] });
    expect(step).toMatch(/^the cookie PHPSESSID is the session cookie PHP sets by default/);
    expect(nextStepsOf({ verdict: 'needs affinity', sessionCookies: ['sid'], evidence: [{ step: 'read', status: 302 }] })[0]).not.toMatch(/the session itself was kept/);
    expect(nextStepsOf({ verdict: 'needs affinity', sessionCookies: ['sid'], evidence: [{ step: 'read', status: 200 }] })[0]).toMatch(/^the session itself was kept/);
  });

  // An outside review: sessions in Redis, the CSRF token in each process's memory: writes refused 403, generic advice.
  it('says a run whose only failures were writes refused as a CSRF check does is about the token, not the session', () => {
    const [step] = nextStepsOf({ verdict: 'needs affinity', sessionCookies: ['sid'], evidence: [{ step: 'write', status: 403 }] });
    expect(step).toMatch(/^every failure was a write refused as a CSRF check refuses one \(403, 419, 422\).*keep it in the session, in a store every replica reaches, or sign it with a key every replica shares/);
    expect(nextStepsOf({ verdict: 'needs affinity', sessionCookies: ['sid'], evidence: [{ step: 'write', status: 401 }] })[0]).not.toMatch(/CSRF/);
  });

  // An outside review: sessions in Redis, a logout that only cleared the cookie, told of signed tokens.
  it('says a logout of a cookie no framework names, where every replica reached one server, may have to delete the session there', () => {
    const logout = { effective: false, stillIn: [1, 2, 3], endedOn: [], replicas: [{}, {}, {}] };
    const [step] = nextStepsOf({ verdict: 'stateless', logout, sessionCookies: ['sid'], peers: ['127.0.0.1:6379'] });
    expect(step).toMatch(/^a logout must end the session where requests are checked: every replica was connected to 127\.0\.0\.1:6379 while it served: if the sessions are kept there, the logout must delete the session there, not only clear the cookie; if the session is a signed token, it stays valid until it expires/);
    expect(nextStepsOf({ verdict: 'stateless', logout, sessionCookies: ['sid'] })[0]).toMatch(/^a logout must end the session where requests are checked: a signed token/);
  });

  it('says a run whose only failures were logins is about what the login needs, not the session', () => {
    const evidence = [{ step: 'login' }, { step: 'login' }];
    expect(nextStepsOf({ verdict: 'needs affinity', sessionCookies: ['session'], evidence })).toEqual([expect.stringMatching(/^the login itself failed where it reached another replica than the request before it .*a CSRF token kept in the session/)]);
  });

  it('names the account setup made among what a login that alone failed needs (accounts in one replica\'s memory, sessions in Redis)', () => {
    const [step] = nextStepsOf({ verdict: 'needs affinity', sessionCookies: ['connect.sid'], evidence: [{ step: 'login' }] });
    expect(step).toMatch(/than the request before it \(the login page, or the setup that registered the account\).*\(the account setup made, kept in one replica's memory or file; a CSRF token/);
    expect(step).toMatch(/keep accounts in a database every replica reaches/);
  });

  it('names a file store beside the MemoryStore for express-session', () => {
    expect(nextStepsOf({ verdict: 'needs affinity', sessionCookies: ['connect.sid'] })[0]).toMatch(/MemoryStore\), and a file store \(session-file-store\) on each replica's own disk: give it one, such as KuraStore/);
  });
});
