import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STATE_FILE, StateFile, readState } from '../../../engine/replica/state.ts';

describe('state file (revision and clean mark, A/B slots)', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'shorthorn-state-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads back the newest slot', async () => {
    const dir = await mkdtemp(join(root, 's'));
    const f = await StateFile.open(dir, 0);
    await f.write({ revision: 5, clean: false });
    await f.write({ revision: 9, clean: true });
    await f.close();
    assert.deepEqual((await readState(dir))?.state, { revision: 9, clean: true });
  });

  it('falls back to the other slot when the newest is torn', async () => {
    const dir = await mkdtemp(join(root, 's'));
    const f = await StateFile.open(dir, 0);
    await f.write({ revision: 5, clean: false });
    await f.write({ revision: 9, clean: false });
    await f.close();
    const raw = await readFile(join(dir, STATE_FILE));
    raw.writeUInt8(raw.readUInt8(20) ^ 0xff, 20); // the slot of seq 2 is at byte 0
    await writeFile(join(dir, STATE_FILE), raw);
    assert.deepEqual((await readState(dir))?.state, { revision: 5, clean: false });
  });

  it('reports no state when neither slot is valid, and none when the file is missing', async () => {
    const dir = await mkdtemp(join(root, 's'));
    assert.equal(await readState(dir), null);
    await writeFile(join(dir, STATE_FILE), Buffer.alloc(1024, 7));
    assert.equal(await readState(dir), null);
  });
});
