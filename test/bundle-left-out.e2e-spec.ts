import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { build } from 'esbuild';
// @ts-expect-error: a build script in plain JavaScript, without types
import { lambdaBundleOptions, lambdaHandlerOptions } from '../scripts/lambda-bundle-options.mjs';

const run = promisify(execFile);
/** The entries live in a temporary folder: their imports resolve from the project's node_modules. */
const nodePaths = [new URL('../node_modules', import.meta.url).pathname];

/**
 * Kura's Lambda bundle leaves out what its code never needs (scripts/lambda-bundle-options.mjs): find-my-way's
 * ReDoS check of regular expressions in routes, light-my-request's validator of `inject` options, and NestJS's
 * middleware engine on Fastify (@fastify/middie) and opt-in security features. Each leaves an error in its place, so
 * code that would have needed it fails saying why instead of going unchecked or quietly doing nothing. Checked with
 * a Fastify app and a NestJS app bundled with the same options, run from a folder with no node_modules.
 */
describe('what the Lambda bundle leaves out fails loudly when it is needed', () => {
  let dir: string;
  const app = (route: string, inject: string) => `
    import Fastify from 'fastify';
    const none = () => () => { throw new Error('no route schemas'); };
    const app = Fastify({ schemaController: { compilersFactory: { buildValidator: none, buildSerializer: none } } });
    try {
      app.get(${JSON.stringify(route)}, async () => ({ ok: true }));
      const reply = await app.inject(${inject});
      process.stdout.write('status ' + reply.statusCode + '\\n');
    } catch (error) {
      process.stdout.write('error ' + error.message + '\\n');
    }
    await app.close();
  `;
  const bundleAndRun = async (name: string, source: string, options: object) => {
    await writeFile(join(dir, `${name}.mjs`), source);
    const out = join(dir, `out-${name}`);
    await build({ ...options, nodePaths, entryPoints: [join(dir, `${name}.mjs`)], outdir: out, outExtension: { '.js': '.mjs' }, splitting: false, metafile: false });
    // A process that ends on an error it did not catch: the error's first line (the bundle's source is in the rest).
    const { stdout } = await run(process.execPath, [join(out, `${name}.mjs`)], { cwd: out }).catch((error: { stderr: string }) => ({
      stdout: `crash ${/^\s*(\w*Error: .*)$/m.exec(error.stderr)?.[1] ?? error.stderr}`,
    }));
    return stdout.trim();
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kura-left-out-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a route with parameters and no regular expression works; one with a regular expression fails at start', async () => {
    const plain = await bundleAndRun('plain', app('/items/:id', "'/items/7'"), lambdaBundleOptions);
    expect(plain).toBe('status 200');
    const regex = await bundleAndRun('regex', app('/items/:id(^\\\\d+$)', "'/items/7'"), lambdaBundleOptions);
    expect(regex).toMatch(/^error Kura's Lambda bundle has no ReDoS check for regular expressions in routes .*\\d\+\$/);
  });

  it("Kura's handler bundle injects with validate: false, and without it says what is missing", async () => {
    const handler = lambdaHandlerOptions(join(dir, 'unused')); // its entry and folder are replaced
    expect(await bundleAndRun('unvalidated', app('/', "{ url: '/', validate: false }"), handler)).toBe('status 200');
    expect(await bundleAndRun('validated', app('/', "'/'"), handler)).toBe(
      "error Kura's Lambda bundle leaves out light-my-request's option validator: inject with validate: false",
    );
  });

  /** A NestJS app on Fastify, decorators applied by hand (plain JavaScript); `setup` runs on it before a GET /. */
  const nestApp = (skipMiddie: boolean, setup: string) => `
    import 'reflect-metadata';
    import { Controller, Get, Module } from '@nestjs/common';
    import { NestFactory } from '@nestjs/core';
    import { FastifyAdapter } from '@nestjs/platform-fastify';
    class Hello { hello() { return { ok: true }; } }
    Get()(Hello.prototype, 'hello', Object.getOwnPropertyDescriptor(Hello.prototype, 'hello'));
    Controller()(Hello);
    class AppModule {}
    Module({ controllers: [Hello] })(AppModule);
    const none = () => () => { throw new Error('no route schemas'); };
    try {
      const adapter = new FastifyAdapter({ skipMiddie: ${skipMiddie}, schemaController: { compilersFactory: { buildValidator: none, buildSerializer: none } } });
      const app = await NestFactory.create(AppModule, adapter, { logger: false, abortOnError: false });
      ${setup}
      await app.init();
      const reply = await app.getHttpAdapter().getInstance().inject({ url: '/', validate: false });
      process.stdout.write('status ' + reply.statusCode + ' ' + reply.body + '\\n');
      await app.close();
    } catch (error) {
      process.stdout.write('error ' + error.message + '\\n');
    }
  `;

  it('a NestJS app without middleware (skipMiddie, as Kura) serves; with @fastify/middie or Nest 12.6\'s security features it fails saying what is left out', async () => {
    expect(await bundleAndRun('nest', nestApp(true, ''), lambdaBundleOptions)).toBe('status 200 {"ok":true}');
    // Nest registers middie as a Fastify plugin, which Fastify loads after `register` returns: the error ends the app.
    expect(await bundleAndRun('nest-middie', nestApp(false, ''), lambdaBundleOptions)).toBe(
      "crash Error: Kura's Lambda bundle leaves out @fastify/middie (Nest middleware on Fastify): create the FastifyAdapter with skipMiddie: true, as Kura does",
    );
    expect(await bundleAndRun('nest-headers', nestApp(true, 'app.useSecurityHeaders();'), lambdaBundleOptions)).toBe(
      "error Kura's Lambda bundle leaves out NestJS's useSecurityHeaders(): Kura sets its own security headers",
    );
    expect(await bundleAndRun('nest-csrf', nestApp(true, 'app.enableCsrfProtection();'), lambdaBundleOptions)).toBe(
      "error Kura's Lambda bundle leaves out NestJS's enableCsrfProtection(): Kura refuses cross-site requests itself",
    );
  });
});
