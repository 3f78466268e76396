// Bundles the long-running server (containers, Kubernetes) from the SWC output in dist/ (compiled with decorator
// metadata), with scripts/server-bundle-options.mjs: .build/server/main.mjs (the service) and, apart, admin.mjs (the
// operator commands, `npm run sessions`) with chunks of its own, so that the service's start loads what it did before
// (one build of both shares their code in chunks, which main.mjs would then load file by file).
// What it saves against running dist/ (measured on this 2-core machine, BENCHMARKS.md): Node resolves and loads
// about 2,000 files of node_modules at start (rxjs alone is 226), which one file replaces: a replica is ready in
// about 0.7-0.9 s instead of 1.5 s, and holds about 90 MiB instead of 135 MiB at rest.
// The bundle still loads a few packages from node_modules (serverRuntimePackages): the image holds those and what
// they depend on, and nothing else of node_modules (scripts/runtime-modules.mjs).
// Usage: node scripts/bundle-server.mjs
import { rm, stat } from 'node:fs/promises';
import { buildServerBundle } from './server-bundle-options.mjs';

const outdir = '.build/server';
await rm(outdir, { recursive: true, force: true });
const { namesDropped } = await buildServerBundle({ entryPoints: { main: 'dist/apps/api/src/main.js' }, outdir });
await buildServerBundle({ entryPoints: { admin: 'dist/apps/api/src/admin.js' }, outdir, chunkNames: 'admin-chunks/[name]-[hash]' });
const { size } = await stat(`${outdir}/main.mjs`);
console.log(`bundle: ${outdir}/main.mjs ${(size / 1024).toFixed(0)} KiB (${namesDropped} per-call __name calls dropped), and admin.mjs`);
