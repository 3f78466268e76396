import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { findNginx, NGINX_MISSING } from './nginx.js';

describe('where nginx is looked for', () => {
  let dir;
  const onPath = () => join(dir, 'path');
  const sbin = () => join(dir, 'sbin');
  const empty = () => join(dir, 'empty');
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kura-check-nginx-spec-'));
    for (const folder of [onPath(), sbin(), empty()]) await mkdir(folder);
    for (const folder of [onPath(), sbin()]) {
      await writeFile(join(folder, 'nginx'), '#!/bin/sh\n');
      await chmod(join(folder, 'nginx'), 0o755);
    }
    await writeFile(join(empty(), 'nginx'), 'not executable\n'); // a file that is no program is not nginx
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('takes the one on PATH first', () => {
    expect(findNginx({ path: `${empty()}:${onPath()}`, fallbacks: [sbin()] })).toBe(join(onPath(), 'nginx'));
  });

  it("then the one in /usr/sbin or /sbin, which a non-root user's PATH on Debian does not hold", () => {
    expect(findNginx({ path: empty(), fallbacks: [empty(), sbin()] })).toBe(join(sbin(), 'nginx'));
    // By default those two: Debian's nginx is /usr/sbin/nginx, found with PATH=/usr/bin:/bin.
    expect(findNginx({ path: empty() })).toBe(findNginx({ path: '', fallbacks: ['/usr/sbin', '/sbin'] }));
  });

  it('finds nothing where there is none, and says where it looked and how to install it', () => {
    expect(findNginx({ path: `${empty()}::relative/bin`, fallbacks: [empty()] })).toBeUndefined();
    expect(NGINX_MISSING).toBe('nginx was not found on PATH nor in /usr/sbin or /sbin: kura-check uses it as the balancer (install it: apt-get install nginx-light)');
  });
});
