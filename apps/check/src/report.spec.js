import { describe, expect, it } from '@jest/globals';
import { filesLine } from './report.js';

describe("the report's files line", () => {
  const own = "each replica's own: it sees this machine's files as they are, and what it writes outside its folder (/tmp/…, /var/…) only it sees, as a pod";

  it('names the folders the kernel would not overlay, the first five and how many more', () => {
    expect(filesLine({ private: true, sharedHere: [], shared: [] })).toBe(own);
    expect(filesLine({ private: true, sharedHere: ['/srv/nfs'], shared: [] })).toBe(`${own}; shared as they are, the kernel would not overlay them: /srv/nfs`);
    const many = Array.from({ length: 40 }, (_, i) => `/var/lib/docker/overlay2/${i}/merged`);
    const line = filesLine({ private: true, sharedHere: many, shared: ['/data'] });
    expect(line).toContain(`${many.slice(0, 5).join(', ')} and 35 more (--json lists them); shared, as the scenario says: /data`);
    expect(line).not.toContain(many[5]);
  });
});
