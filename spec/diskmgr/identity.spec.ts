import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkDiskIdentity, IDENTITY_FILE } from '../../diskmgr/identity.ts';

const root = mkdtempSync(join(tmpdir(), 'shorthorn-identity-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDisk = () => {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  return d;
};
const OTHER = '00000000-0000-4000-8000-000000000001';

describe('disk identity', () => {
  it('creates the identity file once and returns the same UUID afterwards', async () => {
    const d = freshDisk();
    const first = await checkDiskIdentity(d, undefined, false);
    assert.equal(first._tag, 'Ok');
    assert.equal(first._tag === 'Ok' && first.created, true);
    const uuid = first._tag === 'Ok' ? first.diskUUID : '';
    const second = await checkDiskIdentity(d, uuid, true);
    assert.deepEqual(second, { _tag: 'Ok', diskUUID: uuid, created: false });
    assert.equal(JSON.parse(readFileSync(join(d, IDENTITY_FILE), 'utf8')).diskUUID, uuid);
  });

  const cases: Array<{ name: string; setup: (d: string) => void; expected: string | undefined; hasReplicas: boolean; tag: string }> = [
    { name: 'reports a disk whose UUID changed under the same path', setup: (d) => writeFileSync(join(d, IDENTITY_FILE), JSON.stringify({ diskUUID: OTHER })), expected: '11111111-1111-4111-8111-111111111111', hasReplicas: false, tag: 'Changed' },
    { name: 'reports an identity file that vanished while replicas live there', setup: () => undefined, expected: OTHER, hasReplicas: true, tag: 'Changed' },
    { name: 'rewrites the known UUID when the file vanished from a disk without replicas', setup: () => undefined, expected: OTHER, hasReplicas: false, tag: 'Ok' },
    { name: 'reports a corrupt identity file as unreadable', setup: (d) => writeFileSync(join(d, IDENTITY_FILE), '{not json'), expected: undefined, hasReplicas: false, tag: 'Unreadable' },
    { name: 'reports a path that does not exist as unreadable', setup: (d) => rmSync(d, { recursive: true }), expected: OTHER, hasReplicas: true, tag: 'Unreadable' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const d = freshDisk();
      c.setup(d);
      const r = await checkDiskIdentity(d, c.expected, c.hasReplicas);
      assert.equal(r._tag, c.tag, JSON.stringify(r));
      if (r._tag === 'Changed') assert.match(r.message, new RegExp(c.expected as string));
    });
  }

  it('never adopts a changed disk: the file keeps the found UUID', async () => {
    const d = freshDisk();
    writeFileSync(join(d, IDENTITY_FILE), JSON.stringify({ diskUUID: OTHER }));
    await checkDiskIdentity(d, '11111111-1111-4111-8111-111111111111', true);
    assert.equal(JSON.parse(readFileSync(join(d, IDENTITY_FILE), 'utf8')).diskUUID, OTHER);
    unlinkSync(join(d, IDENTITY_FILE));
  });
});
