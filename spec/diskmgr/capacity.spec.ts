import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { defaultReservedBytes, readDiskCapacity } from '../../diskmgr/capacity.ts';

const dir = mkdtempSync(join(tmpdir(), 'shorthorn-capacity-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('disk capacity', () => {
  it('reads maximum and available bytes of a real directory, matching df', async () => {
    const c = await readDiskCapacity(dir);
    assert.ok(c.maximumBytes > 0);
    assert.ok(c.availableBytes > 0 && c.availableBytes <= c.maximumBytes);
    // df -B1 --output=size: the same statfs numbers (f_blocks × f_frsize).
    const df = execFileSync('df', ['-B1', '--output=size', dir], { encoding: 'utf8' }).trim().split('\n')[1]?.trim();
    assert.equal(c.maximumBytes, Number(df));
  });

  it('throws for a path that does not exist', async () => {
    await assert.rejects(readDiskCapacity(join(dir, 'missing')), /ENOENT/);
  });

  const reserved = [
    { max: 1000, pct: 30, want: 300 },
    { max: 1001, pct: 30, want: 300 },
    { max: 1000, pct: 0, want: 0 },
    { max: 1000, pct: 100, want: 1000 },
  ];
  for (const c of reserved) {
    it(`reserves ${c.pct}% of ${c.max} bytes as ${c.want}`, () => assert.equal(defaultReservedBytes(c.max, c.pct), c.want));
  }
});
