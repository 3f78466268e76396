import { noteConnectFailure, RedisNotConnectedError, storeUnavailable, withConnectFailure } from './redis-errors.js';
import { RequestDeadlineError, withRequestDeadline } from '@kura/common';
import { withDeadline } from './redis-script.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
/** node-redis's offline refusal, as its class name is what tells it apart. */
class ClientOfflineError extends Error {
  constructor() {
    super('The client is offline');
  }
}
class SocketClosedUnexpectedlyError extends Error {}
/** node-redis's class for an error Redis answered (ErrorReply's). */
class SimpleError extends Error {}

describe('the reason a Redis failure gives the operator', () => {
  it.each([
    ['an ACL refusal', new Error("NOPERM User kura has no permissions to run the 'info' command"), /^Redis's ACL refused a command to this user: NOPERM User kura has no permissions to run the 'info' command/],
    ['a wrong password', new Error('WRONGPASS invalid username-password pair or user is disabled.'), /^Redis refused the credentials/],
    ['a certificate not trusted', withCode('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'), /TLS certificate was not accepted \(SELF_SIGNED_CERT_IN_CHAIN\)/],
    ['a certificate for another host', withCode("Hostname/IP does not match certificate's altnames", 'ERR_TLS_CERT_ALTNAME_INVALID'), /TLS certificate was not accepted \(ERR_TLS_CERT_ALTNAME_INVALID\)/],
    ['a client certificate asked for', withCode('alert certificate required', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), /asks for a client certificate/],
    ['TLS to a plain port', withCode('wrong version number', 'ERR_SSL_WRONG_VERSION_NUMBER'), /a port that speaks plain TCP needs a redis:\/\/ URL/],
    ['nothing listening', withCode('connect ECONNREFUSED 127.0.0.1:6379', 'ECONNREFUSED'), /^nothing accepts connections/],
    ['a host that does not resolve', withCode('getaddrinfo ENOTFOUND redis.invalid', 'ENOTFOUND'), /does not resolve \(ENOTFOUND\)/],
    ['ioredis out of redirections on a connection it dropped', new Error('Too many Cluster redirections. Last error: Error: Connection is closed.'), /^Redis Cluster redirected the command more times than the client follows \(slots are moving, or a node left\): retrying is safe$/],
    ['ioredis out of redirections', new Error('Too many Cluster redirections. Last error: ReplyError: MOVED 4821 127.0.0.2:34993'), /^Redis Cluster redirected the command more times/],
    // Redis 6's shapes (no server of that version here; Redis 7 and Valkey 8 are in redis-refusals.spec): Kura needs 7.
    ['Redis 6 not knowing a command', new Error('ERR unknown command `EVALSHA`, with args beginning with: `abc`'), /^Redis does not know the command EVALSHA: .*older than 7\.0/],
    ['Redis 6 not knowing a command a script calls', new Error('ERR Error running script (call to f_1): @user_script:2: @user_script: 2: Unknown Redis command called from Lua script'), /^Redis does not know a command one of Kura's scripts calls: .*older than 7\.0/],
    // Redis answered: it is reachable, so not "could not be reached" (an outside review, 2026-12-07).
    ['a key of another type under Kura\'s prefix', new SimpleError('WRONGTYPE Operation against a key holding the wrong kind of value'), /^Redis holds a key of another type where Kura keeps one of its own \(WRONGTYPE\): another app writes under Kura's key prefix/],
    ['an error Redis answered that Kura does not know', new SimpleError('ERR something new'), /^Redis answered an error Kura does not expect: ERR something new$/],
    ['an error of unknown origin', new Error('something new'), /^the store could not be reached$/],
    ["node-redis redirected to a master it has not met", new Error('Cannot find node 127.0.0.1:37843'), /^Redis Cluster redirected the command to a node the client does not know yet \(a slot is moving to a new master\): retrying is safe$/],
  ])('%s', (_case, error, reason) => {
    expect(storeUnavailable('session.find', error).reason).toMatch(reason);
  });

  it('names no address or secret: only the error text Redis wrote, or a code', () => {
    const reason = storeUnavailable('session.find', withCode('connect ECONNREFUSED 10.1.2.3:6379', 'ECONNREFUSED')).reason;

    expect(reason).not.toContain('10.1.2.3');
  });
});

describe('a command refused while the client is not connected', () => {
  it('says why the last attempt to connect failed, once one did', () => {
    const owner = {};
    expect(storeUnavailable('session.find', withConnectFailure(owner, new ClientOfflineError())).reason).toBe(
      'Redis is not connected (the client reconnects in the background; commands are not queued meanwhile)',
    );

    noteConnectFailure(owner, new Error('WRONGPASS invalid username-password pair or user is disabled.'));
    const refused = withConnectFailure(owner, new ClientOfflineError());

    expect(refused).toBeInstanceOf(RedisNotConnectedError);
    expect(storeUnavailable('session.find', refused).reason).toMatch(/^Redis is not connected \(.*\); the last attempt failed: Redis refused the credentials/);
  });

  it('reads through the Sentinel client’s wrapping, and hints at TLS when the server cuts a new connection off', () => {
    const owner = {};
    noteConnectFailure(owner, new Error('Master Client (127.0.0.1:6380): closed', { cause: new SocketClosedUnexpectedlyError('Socket closed unexpectedly') }));

    expect(storeUnavailable('x', withConnectFailure(owner, new ClientOfflineError())).reason).toMatch(/cut off as it opened .*is the URL rediss:\/\/\?/);
  });

  it('over TLS, points at the client certificate instead: a Redis that asks for one cuts the connection off (node-redis 6 reports no alert)', () => {
    const direct = {};
    const throughSentinel = {};
    noteConnectFailure(direct, new SocketClosedUnexpectedlyError('Socket closed unexpectedly'), true);
    noteConnectFailure(throughSentinel, new Error('Master Client (127.0.0.1:6380): closed', { cause: withCode('read ECONNRESET', 'ECONNRESET') }), true);

    for (const owner of [direct, throughSentinel]) {
      const reason = storeUnavailable('x', withConnectFailure(owner, new ClientOfflineError())).reason;
      expect(reason).toMatch(/cut off as its TLS connection opened \(a Redis that asks for a client certificate .*tls\.cert and tls\.key/);
      expect(reason).not.toMatch(/rediss:/);
    }
  });

  // A newcomer's review: rediss:// to a plain Redis, which answers no TLS greeting, was "not connected" with no cause;
  // and a connect that timed out was said as a command Redis did not answer.
  it('says a connect that timed out as one, and over TLS that a plain Redis answers no TLS handshake', () => {
    class ConnectionTimeoutError extends Error {}
    const plain = {};
    const overTls = {};
    noteConnectFailure(plain, new ConnectionTimeoutError('Connection timeout'));
    noteConnectFailure(overTls, new ConnectionTimeoutError('Connection timeout'), true);

    expect(storeUnavailable('x', withConnectFailure(plain, new ClientOfflineError())).reason).toMatch(/; the last attempt failed: Redis could not be reached within the connect timeout$/);
    expect(storeUnavailable('x', withConnectFailure(overTls, new ClientOfflineError())).reason).toMatch(/; the last attempt \(TLS\) got no answer within the connect timeout: nothing answering at that address .*, or a port of plain Redis, which answers no TLS handshake \(is the URL meant to be redis:\/\/\?\)$/);
  });

  it('says a connection that was up was closed, not cut off as it opened, and the next failed attempt says why it failed', () => {
    const owner = {};
    noteConnectFailure(owner, new SocketClosedUnexpectedlyError('Socket closed unexpectedly'), true, true);

    expect(storeUnavailable('x', withConnectFailure(owner, new ClientOfflineError())).reason).toMatch(/^Redis is not connected \(.*\); the connection was closed after it was up, by Redis \(its timeout for idle clients, CLIENT KILL, a restart or a failover\) or the network/);
    noteConnectFailure(owner, withCode('connect ECONNREFUSED 127.0.0.1:6379', 'ECONNREFUSED'), true, false);
    expect(storeUnavailable('x', withConnectFailure(owner, new ClientOfflineError())).reason).toMatch(/the last attempt failed: nothing accepts connections/);
  });

  it('forgets the failure once connected, and leaves every other error as it is', () => {
    const owner = {};
    noteConnectFailure(owner, withCode('connect ECONNREFUSED', 'ECONNREFUSED'));
    const timeout = new Error('Redis command timeout: no answer within 500 ms');

    expect(withConnectFailure(owner, timeout)).toBe(timeout);
    noteConnectFailure(owner, undefined);
    const offline = new ClientOfflineError();
    expect(withConnectFailure(owner, offline)).toBe(offline);
  });
});

describe("a request's deadline (withRequestDeadline) on every command", () => {
  /** A client whose commands are never answered, and which counts those it was asked to send. */
  const silent = () => {
    const sent: string[][] = [];
    return { sent, redis: withDeadline({ sendCommand: (args: string[]) => (sent.push(args), new Promise<unknown>(() => {})) }, 5000) };
  };

  it('cuts a command under way when the deadline passes, long before its own timeout, and says why', async () => {
    const { redis } = silent();
    const started = performance.now();
    const error = await withRequestDeadline(50, () => redis.sendCommand(['GET', 'k'])).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RequestDeadlineError);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(storeUnavailable('session.find', error).reason).toBe("the request's deadline (50 ms) passed before the store answered");
  });

  it('sends nothing once the deadline has passed', async () => {
    const { redis, sent } = silent();
    const error = await withRequestDeadline(0, async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      return redis.sendCommand(['GET', 'k']);
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RequestDeadlineError);
    expect(sent).toEqual([]);
  });
});
