import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EmbeddedStore } from '../../../api/store/embedded.ts';
import { isStoreError } from '../../../api/store/errors.ts';
import { CorruptStoreError } from '../../../api/store/wal.ts';
import type { Admission } from '../../../api/store/port.ts';
import { volume } from '../../helpers/objects.ts';
import { storeContract } from './contract.ts';

storeContract('embedded', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sh-store-'));
  let store: EmbeddedStore | undefined;
  let history = 20000;
  return {
    async open(opts) {
      history = opts?.historyLimit ?? history;
      store = EmbeddedStore.open({ dir, historyLimit: history });
      return store;
    },
    async restart() {
      store?.close();
      store = EmbeddedStore.open({ dir, historyLimit: history });
      return store;
    },
    async close() {
      store?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('embedded store files', () => {
  const fresh = () => mkdtempSync(join(tmpdir(), 'sh-store-'));

  it('refuses to open a hand-corrupted log, names the file and line, and changes nothing', async () => {
    const dir = fresh();
    const s = EmbeddedStore.open({ dir });
    await s.create('Volume', volume('a'));
    await s.create('Volume', volume('b'));
    s.close();
    const wal = join(dir, 'wal.log');
    const text = readFileSync(wal, 'utf8');
    const broken = text.replace('"numberOfReplicas":3', '"numberOfReplicas":4');
    writeFileSync(wal, broken);
    assert.throws(() => EmbeddedStore.open({ dir }), (e: unknown) => e instanceof CorruptStoreError && /wal\.log: line 1 is corrupt \(checksum mismatch\)/.test(e.message));
    assert.equal(readFileSync(wal, 'utf8'), broken, 'the file is untouched');
    assert.equal(existsSync(join(dir, 'lock')), false, 'the lock is released');
    rmSync(dir, { recursive: true });
  });

  it('refuses a snapshot that is not JSON', () => {
    const dir = fresh();
    writeFileSync(join(dir, 'snapshot.json'), '{"format": "shorthorn-store/1", ');
    assert.throws(() => EmbeddedStore.open({ dir }), /snapshot\.json is not valid JSON/);
    rmSync(dir, { recursive: true });
  });

  it('drops a torn last record (a write that was never acknowledged) and keeps the rest', async () => {
    const dir = fresh();
    const s = EmbeddedStore.open({ dir });
    await s.create('Volume', volume('kept'));
    s.close();
    appendFileSync(join(dir, 'wal.log'), '0badc0de {"rv":2,"kind":"Volume","na');
    const s2 = EmbeddedStore.open({ dir });
    assert.equal((await s2.get('Volume', 'kept')).metadata.name, 'kept');
    await s2.create('Volume', volume('after'));
    s2.close();
    const s3 = EmbeddedStore.open({ dir });
    assert.deepEqual((await s3.list('Volume')).items.map((v) => v.metadata.name), ['after', 'kept']);
    s3.close();
    rmSync(dir, { recursive: true });
  });

  it('compacts the log into a snapshot and replays both', async () => {
    const dir = fresh();
    const s = EmbeddedStore.open({ dir, compactBytes: 4096 });
    for (let i = 0; i < 40; i++) await s.create('Volume', volume(`v${i}`));
    await s.delete('Volume', 'v3');
    s.close();
    assert.ok(existsSync(join(dir, 'snapshot.json')));
    const s2 = EmbeddedStore.open({ dir });
    const names = (await s2.list('Volume')).items.map((v) => v.metadata.name);
    assert.equal(names.length, 39);
    assert.ok(!names.includes('v3'));
    s2.close();
    rmSync(dir, { recursive: true });
  });

  it('will not open a store another live process holds', () => {
    const dir = fresh();
    const s = EmbeddedStore.open({ dir });
    writeFileSync(join(dir, 'lock'), String(process.ppid));
    assert.throws(() => EmbeddedStore.open({ dir }), /the store is open in process/);
    writeFileSync(join(dir, 'lock'), String(process.pid));
    s.close();
    rmSync(dir, { recursive: true });
  });

  it('runs admission before every write: mutations are stored, refusals carry the message', async () => {
    const seen: string[] = [];
    const admission: Admission = async (req) => {
      seen.push(`${req.operation}${req.subResource ? '/' + req.subResource : ''}`);
      if (req.operation === 'DELETE') return { allowed: false, code: 403, message: 'volume "a" is attached: detach it first' };
      const o = req.object as { metadata: { labels?: Record<string, string> } };
      return { allowed: true, object: { ...o, metadata: { ...o.metadata, labels: { defaulted: 'yes' } } }, warnings: [] };
    };
    const s = EmbeddedStore.open({ admission });
    const v = await s.create('Volume', volume('a'));
    assert.equal(v.metadata.labels?.defaulted, 'yes');
    await s.updateStatus('Volume', { ...v, status: { state: 'detached' } });
    await assert.rejects(s.delete('Volume', 'a'), (e: unknown) => isStoreError(e, 'Forbidden') && e.message === 'volume "a" is attached: detach it first');
    assert.deepEqual(seen, ['CREATE', 'UPDATE/status', 'DELETE']);
    s.close();
  });
});
