import { execFile } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { isolatedCommand, privateFiles } from './private-files.js';

/**
 * A replica's view of the files is made by one `mount --all` of a table; where that fails, it is undone and made
 * again a command at a time, each mount with its own way out. The second way is what a machine whose kernel refuses
 * some overlay takes: it must give the same view, and nothing of the first attempt may stay mounted beneath it.
 */
let work;
let files;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kura-check-files-spec-'));
  files = await privateFiles(work);
});
afterAll(() => rm(work, { recursive: true, force: true }));

/** The mounts `start` sees in replica folder `name`'s view (mount point, file system type, source), and the note of folders shared as they are. */
async function mountsSeen(name, { spoil = false } = {}) {
  const dir = join(work, name);
  const app = join(dir, 'app');
  await mkdir(app, { recursive: true });
  const [file, args] = await isolatedCommand({ dir, app, start: 'cat /proc/self/mountinfo', userNamespace: files.userNamespace, unshare: files.unshare, hostname: name });
  // A mount that cannot be made: `mount --all` then fails, after it has mounted all the rest.
  if (spoil) await appendFile(join(dir, 'files.fstab'), `${join(work, 'nowhere')} ${join(dir, 'files/root/nowhere')} none bind 0 0\n`);
  const mountinfo = await new Promise((resolve, reject) => execFile(file, args, { encoding: 'utf8' }, (error, stdout) => (error ? reject(error) : resolve(stdout))));
  const mounts = mountinfo
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const fields = line.split(' ');
      const after = fields.indexOf('-');
      return `${fields[4].replaceAll(dir, 'DIR')} ${fields[after + 1]} ${fields[after + 2]}`;
    });
  return { mounts, noted: await readFile(join(dir, 'shared-folders'), 'utf8').catch(() => '') };
}

describe("a replica's own view of the files", () => {
  it('is the same, mount for mount, whether one mount --all makes it or, after that failed, a command at a time', async () => {
    if (!files.private) return console.warn(`SKIPPED: no view of its own for a replica here: ${files.why}`);
    // Both views copy this machine's mounts as they are then; a test running beside this one may add or remove one
    // between the two (Chromium's /tmp/org.chromium.Chromium.*/SingletonSocket, CI 2026-12-06). Taken again then: a
    // difference of the two ways persists, a passing one does not.
    let fast;
    let slow;
    for (let attempt = 0; attempt < 3 && (!fast || JSON.stringify(fast) !== JSON.stringify(slow)); attempt += 1) {
      [fast, slow] = [await mountsSeen(`fast-${attempt}`), await mountsSeen(`slow-${attempt}`, { spoil: true })];
    }
    expect(fast.mounts.length).toBeGreaterThan(5);
    expect(fast.mounts).toContainEqual('/proc proc proc');
    expect(fast.mounts).toContainEqual('/dev/shm tmpfs kura-check-shm');
    expect(fast.mounts.filter((mount) => mount.includes('nowhere'))).toEqual([]);
    expect(slow).toEqual(fast);
  });

  it('has System V IPC of its own, as a pod has: a shared memory segment made outside is not seen in it, nor one it makes outside', async () => {
    if (!files.private) return console.warn(`SKIPPED: no view of its own for a replica here: ${files.why}`);
    const run = (file, args) => new Promise((resolve, reject) => execFile(file, args, { encoding: 'utf8' }, (error, stdout) => (error ? reject(error) : resolve(stdout))));
    const sizes = (listing) => listing.split('\n').map((line) => line.trim().split(/\s+/)).filter((fields) => /^0x/.test(fields[0])).map((fields) => Number(fields[4]));
    const outside = /(\d+)/.exec(await run('ipcmk', ['-M', '4097']))[1];
    try {
      const dir = join(work, 'ipc');
      const app = join(dir, 'app');
      await mkdir(app, { recursive: true });
      const [file, args] = await isolatedCommand({ dir, app, start: 'ipcs -m; ipcmk -M 4099 >/dev/null; echo made; ipcs -m', userNamespace: files.userNamespace, unshare: files.unshare, hostname: 'ipc' });
      const [before, after] = (await run(file, args)).split('\nmade\n');
      expect(sizes(before)).not.toContain(4097);
      expect(sizes(after)).toContain(4099);
      expect(sizes(await run('ipcs', ['-m']))).not.toContain(4099);
    } finally {
      await run('ipcrm', ['-m', outside]);
    }
  });
});
