// temp harness: CPU µs/request of Kura (memory store, signed cache or strict) vs the NestJS-from-memory reference
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import autocannon from 'autocannon';
const which = process.argv[2] ?? 'cache';
const seconds = Number(process.argv[3] ?? 8);
const prof = process.argv.includes('--prof');
const env = { ...process.env, HOST: '127.0.0.31', PORT: '0', KURA_STORE: 'memory', KURA_COOKIE_SECURE: 'false', KURA_LOG_LEVEL: 'log', KURA_PASSWORD_HASH_COST: '12', KURA_DOCS_UI: 'false', KURA_ACCESS_LOG: 'false', KURA_SHUTDOWN_DRAIN_SECONDS: '0',
  ...(which === 'cache' ? { KURA_SESSION_CACHE_SECONDS: '300', KURA_SESSION_CACHE_KEYS: `b:${'A'.repeat(43)}` } : {}) };
if (prof) env.NODE_OPTIONS = '--cpu-prof --cpu-prof-dir=/tmp/leanprof';
const args = which === 'nest' ? ['bench/sessions/systems/.nest-memory.compiled.mjs'] : ['dist/apps/api/src/main.js'];
const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
const url = await new Promise((ok) => child.stdout.on('data', (c) => { out += c; const m = /listening (?:on http:\/\/)?(\d+\.\d+\.\d+\.\d+:\d+)/.exec(out); if (m) ok(`http://${m[1]}`); }));
let headers = { authorization: 'Bearer x' };
if (which !== 'nest') {
  const post = (p, b) => fetch(url + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
  await post('/auth/register', { email: 'a@example.com', password: 'correct horse battery' });
  const { token } = await (await post('/auth/login', { email: 'a@example.com', password: 'correct horse battery', transport: 'bearer' })).json();
  headers = { authorization: `Bearer ${token}` };
  const me = await fetch(`${url}/auth/me`, { headers });
  if (which === 'cache') headers['kura-session-cache'] = me.headers.get('kura-session-cache');
}
const cpu = async () => { const s = await readFile(`/proc/${child.pid}/stat`, 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
await autocannon({ url: `${url}/auth/me`, headers, connections: 16, duration: 2 });
const c0 = await cpu();
const r = await autocannon({ url: `${url}/auth/me`, headers, connections: 16, duration: seconds });
const c1 = await cpu();
console.log(`${which}: ${Math.round(r.requests.average)} req/s, non2xx ${r.non2xx}, ${((c1 - c0) * 1000 / r.requests.total).toFixed(0)} µs CPU/req`);
child.kill('SIGINT'); await new Promise((ok) => child.once('exit', ok));
