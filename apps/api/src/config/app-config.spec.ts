import { ConfigError, loadConfig } from './app-config.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('runs with no configuration at all: embedded engine on 127.0.0.1:3000, secure cookies', () => {
    const config = loadConfig({});

    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 3000 });
    expect(config.store).toMatchObject({ kind: 'embedded', createTables: true, consistentReads: true });
    expect(config.session).toMatchObject({ idleTimeoutSeconds: 1800, absoluteTimeoutSeconds: 28_800, cookieSecure: true });
    expect(config.passwordHashCost).toBe(17);
  });

  it('uses a configured engine and starts nothing embedded when DYNAMODB_ENDPOINT is set', () => {
    const config = loadConfig({ DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' });

    expect(config.store).toMatchObject({ kind: 'dynamodb', endpoint: 'http://127.0.0.1:8000', createTables: false });
    expect(config.store.credentials).toBeDefined();
  });

  it('uses AWS itself, with the default credential chain, when AWS credentials and a region are present', () => {
    const config = loadConfig({ AWS_REGION: 'eu-west-1', AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/token' });

    expect(config.store).toMatchObject({ kind: 'dynamodb', region: 'eu-west-1', endpoint: undefined, credentials: undefined });
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DYNAMODB_ENDPOINT: '' }).store.kind).toBe('embedded');
  });

  it('lists every problem in one message', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      DYNAMODB_ENDPOINT: 'not a url',
      KURA_COOKIE_SECURE: 'maybe',
      KURA_PASSWORD_HASH_COST: '4',
    });

    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/DYNAMODB_ENDPOINT/);
    expect(problems.join('\n')).toMatch(/KURA_COOKIE_SECURE/);
    expect(problems.join('\n')).toMatch(/KURA_PASSWORD_HASH_COST/);
  });

  it.each([
    [{ KURA_SESSION_IDLE_TIMEOUT: '600', KURA_SESSION_ABSOLUTE_TIMEOUT: '60' }, /ABSOLUTE_TIMEOUT must not be shorter/],
    [{ KURA_SESSION_IDLE_TIMEOUT: '600', KURA_SESSION_REFRESH_INTERVAL: '600' }, /REFRESH_INTERVAL must be shorter/],
    [{ KURA_COOKIE_SECURE: 'false', KURA_COOKIE_NAME: '__Host-sid' }, /__Host-/],
    [{ KURA_STORE: 'dynamodb' }, /needs DYNAMODB_ENDPOINT or AWS_REGION/],
    [{ KURA_STORE: 'embedded', DYNAMODB_ENDPOINT: 'http://127.0.0.1:1' }, /starts its own engine/],
  ])('refuses settings that cannot work together: %p', (env, message) => {
    expect(problemsOf(env).join('\n')).toMatch(message);
  });

  it.each([
    [undefined, 2],
    ['8', 6],
    ['3', 1],
    ['1', 1],
  ])("hashes at most libuv's thread pool (UV_THREADPOOL_SIZE=%p) less two passwords at once, at least one", (size, expected) => {
    expect(loadConfig(size === undefined ? {} : { UV_THREADPOOL_SIZE: size }).passwordHashConcurrency).toBe(expected);
  });

  it.each(['0', 'four', '1025'])('refuses UV_THREADPOOL_SIZE=%p, which Node would not use either', (size) => {
    expect(problemsOf({ UV_THREADPOOL_SIZE: size }).join('\n')).toMatch(/^UV_THREADPOOL_SIZE: /);
  });

  describe('KURA_TRUST_PROXY', () => {
    it.each([
      [undefined, 'no proxy trusted', false],
      ['false', 'no proxy trusted', false],
      ['0', 'no proxy trusted', false],
      ['no', 'no proxy trusted', false],
      ['1', 'one hop: the ingress controller that connects to the pod', 1],
      ['2', 'two hops: a load balancer in front of the ingress controller', 2],
      ['10.0.0.7', 'the one proxy at that address', ['10.0.0.7']],
      ['10.0.0.0/8, 192.168.1.1 ,::1,fd00::/8', 'proxies at those addresses and in those ranges', ['10.0.0.0/8', '192.168.1.1', '::1', 'fd00::/8']],
      ['true', 'every hop (dangerous)', true],
    ])('reads %p as %s', (value, _meaning, expected) => {
      const config = loadConfig(value === undefined ? {} : { KURA_TRUST_PROXY: value });

      expect(config.http.trustProxy).toEqual(expected);
    });

    it.each([
      ['a word', 'maybe'],
      ['a negative hop count', '-1'],
      ['a fractional hop count', '1.5'],
      ['a hop count in exponent form', '1e3'],
      ['an IPv4 prefix over 32', '10.0.0.0/33'],
      ['an IPv6 prefix over 128', 'fd00::/129'],
      ['a prefix that is not a number', '10.0.0.0/eight'],
      ['a host name', 'ingress.example.com'],
      ['one bad entry among good ones', '10.0.0.1, maybe'],
      ['commas alone', ' , '],
      ['yes (ambiguous: say true if every hop is meant)', 'yes'],
    ])('refuses %s (%p) as a configuration problem, listed with the others', (_case, value) => {
      const problems = problemsOf({ KURA_TRUST_PROXY: value, PORT: 'eighty' });

      expect(problems).toHaveLength(2);
      expect(problems.join('\n')).toMatch(/PORT/);
      expect(problems.join('\n')).toMatch(/^KURA_TRUST_PROXY: .*false, a hop count, addresses\/CIDRs or true/m);
    });
  });
});
