// Bundles the long-running server (containers, Kubernetes): .build/server/main.mjs and its chunks, from the SWC
// output in dist/ (compiled with decorator metadata), with scripts/server-bundle-options.mjs.
// What it saves against running dist/ (measured on this 2-core machine, BENCHMARKS.md): Node resolves and loads
// about 2,000 files of node_modules at start (rxjs alone is 226), which one file replaces: a replica is ready in
// about 0.7-0.9 s instead of 1.5 s, and holds about 90 MiB instead of 135 MiB at rest.
// The bundle still needs the runtime node_modules for its externals: the image keeps them.
// Usage: node scripts/bundle-server.mjs
import { rm, stat } from 'node:fs/promises';
import { buildServerBundle } from './server-bundle-options.mjs';

const outdir = '.build/server';
await rm(outdir, { recursive: true, force: true });
const { namesDropped } = await buildServerBundle({ entryPoints: { main: 'dist/apps/api/src/main.js' }, outdir });
const { size } = await stat(`${outdir}/main.mjs`);
console.log(`bundle: ${outdir}/main.mjs ${(size / 1024).toFixed(0)} KiB (${namesDropped} per-call __name calls dropped)`);
