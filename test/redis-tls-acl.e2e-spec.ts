import { StoreUnavailableError } from '@kura/common';
import { connectRedis, RedisConnectSessionStore, RedisSessionDataStore, RedisSessionStore, type RedisConnection, type RedisTlsOptions } from '@kura/redis';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectSessionStoreContract } from './contracts/connect-session-store.contract.js';
import { storeContract } from './contracts/session-store.contract.js';
import { freePort } from './support/free-port.js';
import { HttpClient, uniqueEmail } from './support/http-client.js';
import { type KuraProcess, startKuraProcess } from './support/kura-process.js';
import { type RedisCluster, redisCli, startRedisCluster, until } from './support/redis-cluster.js';
import { startSentinels } from './support/redis-sentinel.js';
import { redisStores } from './support/redis-fixture.js';
import { type RedisServer, redisServerMissing, startRedisServer } from './support/redis-server.js';
import { makeTestCertificates, opensslMissing, type TestCertificates } from './support/redis-tls.js';

/**
 * Kura on Redis as production runs it: TLS with the server's certificate checked (mutual TLS here, Redis's own
 * default for `tls-auth-clients`), as an ACL user allowed only the commands and keys Kura needs: the very line
 * docs/redis.md gives, read from there. Redis's `ACL LOG` must show no command or key refused to that user. And
 * when Kura cannot connect, the operator is told why in one line (credentials, certificate, TLS or not), where
 * before every cause read "Redis is not connected".
 */
const missing = redisServerMissing() ?? opensslMissing();
if (missing) console.warn(`SKIPPING Redis over TLS with an ACL user: ${missing}`);
const describeWith = missing ? describe.skip : describe;

const KURA_PASSWORD = 'kura-pass@1:/%'; // reserved characters: the URL must carry them percent-encoded
const ADMIN_PASSWORD = 'admin-pass';
const HARDENED_PASSWORD = 'hardened-pass';

/** The ACL line of docs/redis.md, for user `kura`, with its placeholder password replaced. */
async function documentedAcl(): Promise<string> {
  const docs = await readFile(new URL('../docs/redis.md', import.meta.url), 'utf8');
  const line = docs.split('\n').find((text) => text.startsWith('user kura on '));
  if (!line) throw new Error('docs/redis.md has no "user kura on ..." line');
  return line.replace('>PASSWORD', `>${KURA_PASSWORD}`);
}

// The access string for ElastiCache and MemoryDB users is the line above less what those services set apart: kept
// in step with it here, since only the line is run (a command added to the line alone would be refused there).
describe("docs/redis.md's access string for ElastiCache and MemoryDB", () => {
  it('is the ACL line without the user name, the password and the reset rules', async () => {
    const docs = await readFile(new URL('../docs/redis.md', import.meta.url), 'utf8');
    const accessString = docs.split('\n').map((text) => text.trim()).find((text) => text.startsWith('on ~'));
    const line = docs.split('\n').find((text) => text.startsWith('user kura on '))!;

    expect(accessString).toBe(line.replace(/^user kura /, '').replace(/ (>PASSWORD|resetchannels|resetkeys)(?= )/g, ''));
  });
});

/**
 * A redis-server's config: data on `tlsPort` over mutual TLS only (the plain port, given apart, serves the harness:
 * its readiness PING, and the admin reading ACL LOG), with the documented `acl` line and the users the tests need.
 */
function serverConfig(tlsPort: number, acl: string, extra: string[] = []): string {
  return [
    ...tlsOn(tlsPort, 'yes'),
    'user default on nopass resetchannels -@all +ping',
    `user admin on >${ADMIN_PASSWORD} ~* &* +@all`,
    acl,
    // The ACL many operators write (and ElastiCache's docs show): everything but @dangerous, so no INFO.
    `user hardened on >${HARDENED_PASSWORD} resetchannels ~kura:* +@all -@dangerous`,
    ...extra,
    '',
  ].join('\n');
}

/** A redis-server's TLS directives: the data on `tlsPort`, with the test's certificates; client certificates asked or not. */
function tlsOn(tlsPort: number, authClients: 'yes' | 'no'): string[] {
  return [
    `tls-port ${tlsPort}`,
    `tls-cert-file ${certificates.files.serverCert}`,
    `tls-key-file ${certificates.files.serverKey}`,
    `tls-ca-cert-file ${certificates.files.ca}`,
    `tls-auth-clients ${authClients}`,
  ];
}

let dir: string;
let certificates: TestCertificates;
let redis: RedisServer;
let cluster: RedisCluster | undefined;
let tlsPort: number;
const opened: RedisConnection[] = [];
/** Behind Sentinel: the master and the replica (data over mutual TLS), the three sentinels, and Kura's connection. */
const sentinelSet: { dataNodes: RedisServer[]; replicaTlsPort?: number; sentinels: RedisServer[]; connection?: RedisConnection } = { dataNodes: [], sentinels: [] };
const SENTINEL_MASTER = 'kura-tls';

const url = (user: string, password: string, scheme = 'rediss') => `${scheme}://${user}:${encodeURIComponent(password)}@localhost:${tlsPort}`;
const mutualTls = (): RedisTlsOptions => ({ ca: certificates.ca, cert: certificates.clientCert, key: certificates.clientKey });

/** A connection as Kura's stores are given one, opened (or left trying, for the failures). */
async function connect(redisUrl: string, tls?: RedisTlsOptions, options: { wait?: boolean } = {}): Promise<RedisConnection> {
  const connection = connectRedis({ url: redisUrl, ...(tls ? { tls } : {}), maxReconnectDelayMs: 200 });
  opened.push(connection);
  const opening = connection.open();
  if (options.wait !== false) await opening;
  return connection;
}

if (!missing) {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kura-redis-tls-'));
    certificates = await makeTestCertificates(dir);
    tlsPort = await freePort();
    const acl = await documentedAcl();
    // The plain port serves the harness only (its readiness PING, and the admin reading ACL LOG); Kura uses TLS.
    redis = await startRedisServer({ config: () => serverConfig(tlsPort, acl) });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(opened.map((connection) => connection.close()));
    await Promise.all([redis?.stop(), cluster?.stop(), ...[...sentinelSet.dataNodes, ...sentinelSet.sentinels].map((server) => server.stop())]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  storeContract('Redis over mutual TLS, as the ACL user docs/redis.md gives', async () => {
    const connection = await connect(url('kura', KURA_PASSWORD), mutualTls());
    return redisStores(connection);
  });

  storeContract('a Redis Cluster of three masters over mutual TLS (MemoryDB-like), as the documented ACL user', async () => {
    const acl = await documentedAcl();
    const tlsPorts: number[] = [];
    cluster = await startRedisCluster(3, {
      // TLS among the nodes too (tls-cluster): CLUSTER SLOTS then gives a TLS client the nodes' TLS ports.
      config: async () => {
        const port = await freePort();
        tlsPorts.push(port);
        // The bus port is otherwise the TLS port + 10000, which another node's random port may hold.
        const busPort = await freePort();
        return () => serverConfig(port, acl, ['tls-cluster yes', `cluster-port ${busPort}`]);
      },
      cliArgs: ['--user', 'admin', '--pass', ADMIN_PASSWORD, '--no-auth-warning'],
    });
    const connection = connectRedis({ url: `rediss://kura:${encodeURIComponent(KURA_PASSWORD)}@127.0.0.1:${tlsPorts[0]}`, cluster: true, tls: mutualTls(), maxReconnectDelayMs: 200 });
    opened.push(connection);
    await connection.open();
    await until('the cluster client to connect over TLS', async () => (await connection.sendCommand(['PING'])) === 'PONG');
    return redisStores(connection);
  });

  storeContract('Redis behind Sentinel, its master and replica over mutual TLS, as the documented ACL user', async () => {
    const acl = await documentedAcl();
    const [masterTls, replicaTls] = [await freePort(), await freePort()];
    sentinelSet.replicaTlsPort = replicaTls;
    // Replication over TLS too, as admin: the default user may only PING.
    const replication = ['tls-replication yes', 'masteruser admin', `masterauth ${ADMIN_PASSWORD}`];
    const master = await startRedisServer({ config: () => serverConfig(masterTls, acl, replication) });
    sentinelSet.dataNodes.push(master);
    const replica = await startRedisServer({ config: () => serverConfig(replicaTls, acl, [...replication, `replicaof 127.0.0.1 ${masterTls}`]) });
    sentinelSet.dataNodes.push(replica);
    await until('the replica to sync over TLS', async () => (await asAdmin(replica.port, 'INFO', 'replication')).includes('master_link_status:up'));
    await startSentinels(
      {
        masterName: SENTINEL_MASTER,
        masterPort: masterTls,
        // The sentinels watch the data nodes over TLS (tls-replication), as admin, and so talk to one another over TLS
        // too (their tls-port, which they announce); Kura reaches them on their plain port.
        config: async () => [
          `tls-port ${await freePort()}`,
          'tls-replication yes',
          `tls-cert-file ${certificates.files.serverCert}`,
          `tls-key-file ${certificates.files.serverKey}`,
          `tls-ca-cert-file ${certificates.files.ca}`,
          `sentinel auth-user ${SENTINEL_MASTER} admin`,
          `sentinel auth-pass ${SENTINEL_MASTER} ${ADMIN_PASSWORD}`,
        ],
      },
      (sentinel) => sentinelSet.sentinels.push(sentinel),
    );
    // As docs/redis.md has it: the URL gives only the user, the password and TLS; the sentinels name the master.
    const connection = connectRedis({
      url: `rediss://kura:${encodeURIComponent(KURA_PASSWORD)}@ignored`,
      sentinels: sentinelSet.sentinels.map((sentinel) => ({ host: '127.0.0.1', port: sentinel.port })),
      masterName: SENTINEL_MASTER,
      tls: mutualTls(),
      maxReconnectDelayMs: 200,
    });
    opened.push(connection);
    sentinelSet.connection = connection;
    await connection.open();
    return redisStores(connection);
  });

  connectSessionStoreContract('Redis over mutual TLS, as the ACL user docs/redis.md gives', async () => ({
    sut: new RedisConnectSessionStore(await connect(url('kura', KURA_PASSWORD), mutualTls())),
    close: async () => undefined,
  }));
}

describeWith('Kura on Redis over mutual TLS, as the documented ACL user', () => {
  let kura: KuraProcess;
  beforeAll(async () => {
    kura = await startKuraProcess({
      KURA_STORE: 'redis',
      REDIS_URL: url('kura', KURA_PASSWORD),
      KURA_REDIS_TLS_CA_FILE: certificates.files.ca,
      KURA_REDIS_TLS_CERT_FILE: certificates.files.clientCert,
      KURA_REDIS_TLS_KEY_FILE: certificates.files.clientKey,
      KURA_PASSWORD_HASH_COST: '12',
    });
  }, 60_000);
  afterAll(() => kura?.stop());

  it('becomes ready and serves every kind of request: register, log in, read, data, list, password, log out', async () => {
    await until('Kura to be ready over TLS', async () => (await fetch(`${kura.baseUrl}/health/ready`)).status === 200);
    const browser = new HttpClient(kura.baseUrl);
    const email = uniqueEmail('tls');
    await browser.signUpAndLogIn(email);

    expect((await browser.get('/auth/me')).status).toBe(200);
    const patched = await browser.request('PATCH', '/session/data', { body: '{"theme":"dark"}', headers: { 'content-type': 'application/merge-patch+json' } });
    expect(patched.status).toBe(200);
    expect((await browser.get('/session/data')).body).toMatchObject({ data: { theme: 'dark' } });
    expect((await browser.get('/auth/sessions')).status).toBe(200);
    expect((await browser.post('/auth/password', { currentPassword: 'correct horse battery', newPassword: 'correct horse battery staple' })).status).toBe(200);
    expect((await browser.post('/auth/logout')).status).toBe(204);
    expect((await browser.get('/auth/me')).status).toBe(401);
    expect((await fetch(`${kura.baseUrl}/health/store`)).status).toBe(200);
  });
});

describeWith('Kura says why it cannot connect', () => {
  /** The reason a store gives while its connection cannot be made (after a few attempts). */
  async function reasonWith(redisUrl: string, tls?: RedisTlsOptions): Promise<string> {
    const connection = await connect(redisUrl, tls, { wait: false });
    const store = new RedisSessionStore(connection, { commandTimeoutMs: 500 });
    let reason = '';
    await until('a failed connection attempt to be reported', async () => {
      reason = await store.ping().then(
        () => 'connected',
        (error: unknown) => (error instanceof StoreUnavailableError ? error.reason : String(error)),
      );
      return /last attempt/.test(reason) || reason === 'connected';
    });
    return reason;
  }

  it.each([
    ['a wrong password', () => url('kura', 'not the password'), mutualTls, /Redis refused the credentials/],
    ['a server certificate from an authority not trusted', () => url('kura', KURA_PASSWORD), () => ({ cert: certificates.clientCert, key: certificates.clientKey }), /TLS certificate was not accepted \(SELF_SIGNED_CERT_IN_CHAIN\)/],
    ['no client certificate, where Redis asks for one', () => url('kura', KURA_PASSWORD), () => ({ ca: certificates.ca }), /refused the TLS handshake \(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\): it asks for a client certificate|cut off as its TLS connection opened \(a Redis that asks for a client certificate/],
    ['redis:// to a port that takes only TLS', () => url('kura', KURA_PASSWORD, 'redis'), () => undefined, /is the URL rediss:\/\//],
  ])('%s', async (_what, redisUrl, tls, expected) => {
    const reason = await reasonWith(redisUrl(), tls());
    console.log(`${_what}: ${reason}`);

    expect(reason).toMatch(/^Redis is not connected/);
    expect(reason).toMatch(expected);
    expect(reason).not.toContain(KURA_PASSWORD);
    expect(reason).not.toContain('not the password');
  });

  it('at start: the log, readiness and /health/store say it, the credentials named and not shown', async () => {
    const kura = await startKuraProcess({
      KURA_STORE: 'redis',
      REDIS_URL: url('kura', 'not the password'),
      KURA_REDIS_TLS_CA_FILE: certificates.files.ca,
      KURA_REDIS_TLS_CERT_FILE: certificates.files.clientCert,
      KURA_REDIS_TLS_KEY_FILE: certificates.files.clientKey,
    });
    try {
      let message = '';
      await until('readiness to name the credentials', async () => {
        const ready = await fetch(`${kura.baseUrl}/health/ready`);
        message = ((await ready.json()) as { checks: { lifecycle: { message?: string } } }).checks.lifecycle.message ?? '';
        return ready.status === 503 && /refused the credentials/.test(message);
      });
      const store = (await (await fetch(`${kura.baseUrl}/health/store`)).json()) as { checks: { store: { message: string } } };

      expect(message).toMatch(/^starting: the session store has not answered yet: Redis is not connected/);
      expect(store.checks.store.message).toMatch(/refused the credentials/);
      expect(kura.output()).toMatch(/the session store does not answer yet: Redis is not connected .*refused the credentials/);
      expect(kura.output()).not.toContain('not the password');
    } finally {
      await kura.stop();
    }
  }, 60_000);
});

describeWith('an AUTH token instead of an ACL user, and a database named in the URL', () => {
  const TOKEN = 'an-auth-token/with:reserved@chars';
  let tokenServer: RedisServer;
  let tokenTlsPort: number;
  beforeAll(async () => {
    tokenTlsPort = await freePort();
    // ElastiCache's AUTH token without RBAC: the default user's password (requirepass), over TLS.
    tokenServer = await startRedisServer({ config: () => [...tlsOn(tokenTlsPort, 'no'), ''].join('\n') });
    // Set once the harness has seen it answer PING (which it sends without AUTH).
    await redisCli(tokenServer.port, 'CONFIG', 'SET', 'requirepass', TOKEN);
  });
  afterAll(() => tokenServer?.stop());

  it('connects with rediss://:TOKEN@host/2 and keeps Kura\u2019s keys in database 2', async () => {
    const connection = await connect(`rediss://:${encodeURIComponent(TOKEN)}@localhost:${tokenTlsPort}/2`, { ca: certificates.ca });
    const sessions = new RedisSessionStore(connection);
    await sessions.ping();
    const data = new RedisSessionDataStore(connection);
    await data.write('token-data', { theme: 'dark' }, 0, Date.now() + 60_000);

    const size = (db: string) => redisCli(tokenServer.port, '--pass', TOKEN, '--no-auth-warning', '-n', db, 'DBSIZE');
    expect(Number(await size('2'))).toBeGreaterThan(0);
    expect(Number(await size('0'))).toBe(0);
  });
});

describeWith('an ACL user without INFO (+@all -@dangerous)', () => {
  it('is refused INFO, and Kura is ready all the same: Redis answers, its eviction policy goes unchecked', async () => {
    const connection = await connect(url('hardened', HARDENED_PASSWORD), mutualTls());

    await expect(connection.sendCommand(['INFO', 'memory'])).rejects.toThrow(/^NOPERM/);
    await expect(new RedisSessionStore(connection).ping()).resolves.toBeUndefined();
  });
});

describeWith('Redis behind Sentinel over TLS, when its master dies', () => {
  it('follows the replica the sentinels promote, over TLS, as the documented ACL user, and keeps what was acknowledged', async () => {
    const [master, replica] = sentinelSet.dataNodes;
    const data = new RedisSessionDataStore(sentinelSet.connection!, { commandTimeoutMs: 500 });
    expect(await data.write('before-failover', { kept: true }, 0, Date.now() + 60_000)).toBe(true);
    // Read before it dies: the master's ACL log goes with it.
    const refusedOnMaster = (await aclLog([master!.port])).filter(refusedToKura);
    await until('the replica to have the write', async () => (await asAdmin(replica!.port, 'EXISTS', 'kura:data:{before-failover}')).trim() === '1');

    await master!.kill();
    const started = Date.now();
    await until('Kura to write through the promoted replica', async () => (await data.write('after-failover', { written: true }, 0, Date.now() + 60_000)) === true, 30_000);
    console.log(`Sentinel over TLS: Kura wrote to the promoted replica ${Date.now() - started} ms after the master was killed`);

    expect(refusedOnMaster).toEqual([]);
    expect((await data.read('before-failover')).data).toEqual({ kept: true });
    expect((await data.read('after-failover')).data).toEqual({ written: true });
    // The sentinels name the replica's TLS port as the master now.
    expect(Number((await redisCli(sentinelSet.sentinels[0]!.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER)).trim().split('\n')[1])).toBe(sentinelSet.replicaTlsPort);
  }, 60_000);
});

/** redis-cli on a server's plain port, as admin. */
function asAdmin(port: number, ...args: string[]): Promise<string> {
  return redisCli(port, '--user', 'admin', '--pass', ADMIN_PASSWORD, '--no-auth-warning', ...args);
}

/**
 * The ACL LOG entries of these servers. redis-cli prints each entry as field, value lines, starting with "count":
 * refusals of commands, keys or channels to `kura` show as entries with that username.
 */
async function aclLog(ports: number[]): Promise<Record<string, string>[]> {
  const entries: Record<string, string>[] = [];
  for (const port of ports) {
    const lines = (await asAdmin(port, 'ACL', 'LOG', '128')).split('\n');
    for (let index = 0; index + 1 < lines.length; index += 2) {
      if (lines[index] === 'count') entries.push({ port: String(port) });
      const entry = entries.at(-1);
      if (entry) entry[lines[index]!] = lines[index + 1]!;
    }
  }
  return entries;
}

/** A refusal to Kura's user; failed logins (reason "auth") are the tests' own. */
const refusedToKura = (entry: Record<string, string>) => entry.username === 'kura' && entry.reason !== 'auth';

/**
 * Valkey 8 as ElastiCache and self-hosted clusters now run it: the same mutual TLS and the same documented ACL line,
 * with the one addition docs/redis.md names for Redis 7.2+ and Valkey (`+client|setinfo`, the greeting node-redis
 * sends on connecting). The line as written for Redis 7.0 works there too; only that greeting lands in the log.
 */
const valkeyMissing = missing ?? redisServerMissing('valkey');
if (valkeyMissing) console.warn(`SKIPPING Valkey over TLS with an ACL user: ${valkeyMissing}`);
(valkeyMissing ? describe.skip : describe)('Valkey over mutual TLS, as the ACL user docs/redis.md gives', () => {
  let valkey: RedisServer;
  let valkeyTlsPort: number;
  const valkeyUrl = (user: string) => `rediss://${user}:${encodeURIComponent(KURA_PASSWORD)}@localhost:${valkeyTlsPort}`;
  beforeAll(async () => {
    valkeyTlsPort = await freePort();
    const acl = await documentedAcl();
    // `kura`: the documented line plus what the docs add for Valkey; `kura-as-written`: the line exactly as written.
    const users = [`${acl} +client|setinfo`, acl.replace('user kura on ', 'user kura-as-written on ')];
    valkey = await startRedisServer({ flavour: 'valkey', config: () => serverConfig(valkeyTlsPort, users.join('\n')) });
  }, 60_000);
  afterAll(() => valkey?.stop());

  it('is Valkey', async () => {
    expect(await asAdmin(valkey.port, 'INFO', 'server')).toMatch(/^server_name:valkey\r?$/m);
  });

  storeContract('Valkey over mutual TLS, as the documented ACL user', async () => redisStores(await connect(valkeyUrl('kura'), mutualTls())));

  connectSessionStoreContract('Valkey over mutual TLS, as the documented ACL user', async () => ({
    sut: new RedisConnectSessionStore(await connect(valkeyUrl('kura'), mutualTls())),
    close: async () => undefined,
  }));

  it('logs no refusal to that user; the line as written for Redis 7.0 works too, with only the greeting refused', async () => {
    const asWritten = await connect(valkeyUrl('kura-as-written'), mutualTls());
    await new RedisSessionStore(asWritten).ping();
    await new RedisSessionDataStore(asWritten).write('as-written', { kept: true }, 0, Date.now() + 60_000);
    const entries = await aclLog([valkey.port]);
    console.log(`Valkey ACL LOG: ${entries.length} entries (${entries.map((entry) => `${entry.username} ${entry.reason} ${entry.object}`).join('; ')})`);

    expect(entries.filter(refusedToKura)).toEqual([]);
    const refusedAsWritten = entries.filter((entry) => entry.username === 'kura-as-written' && entry.reason !== 'auth');
    expect(refusedAsWritten.length).toBeGreaterThan(0);
    expect(new Set(refusedAsWritten.map((entry) => entry.object))).toEqual(new Set(['client|setinfo']));
  });
});

describeWith("Redis's ACL log, after everything above", () => {
  it('shows no command or key refused to Kura’s user, on the server, on every node of the cluster and on the promoted replica', async () => {
    const ports = [redis.port, ...(cluster?.nodes.map((node) => node.port) ?? []), sentinelSet.dataNodes[1]!.port];
    const entries = await aclLog(ports);
    const refused = entries.filter(refusedToKura);
    console.log(`ACL LOG: ${entries.length} entries (${entries.map((entry) => `${entry.username} ${entry.reason} ${entry.object}`).join('; ')})`);

    expect(ports).toHaveLength(5);
    expect(refused).toEqual([]);
    // The log is read as it should be: it names the hardened user's refused INFO.
    expect(entries).toContainEqual(expect.objectContaining({ username: 'hardened', reason: 'command', object: 'info' }));
  });
});
