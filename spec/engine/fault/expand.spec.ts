import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Opcode } from '../../../engine/frontend/iscsi/pdu/opcodes.ts';
import { TestInitiator } from '../../helpers/iscsi-initiator.ts';
import * as pdu from '../../helpers/iscsi-pdu.ts';
import { Cluster, engineCli, engineStatus, engineStatusUntil, spawnReady, type Child } from './harness.ts';

/**
 * Online volume expansion through the real processes: `shorthorn engine serve` over three
 * `shorthorn replica serve`, grown by `shorthorn engine expand` while an initiator is logged in,
 * with one replica SIGKILLed before the expansion and brought back after it.
 */

const run = promisify(execFile);
const MiB = 1 << 20;
const OLD = 16 * MiB;
const NEW = 48 * MiB;





/** TEST UNIT READY; resolves the status byte and, on CHECK CONDITION, [sense key, ASC, ASCQ]. */
async function testUnitReady(ini: TestInitiator): Promise<{ status: number; sense?: number[] }> {
  const itt = ini.nextItt();
  const w = ini.waitFor((p) => p.itt === itt && p.opcode === Opcode.ScsiResponse);
  ini.send(pdu.scsiCommand({ itt, cmdSn: ini.cmdSn++, cdb: Buffer.alloc(6), expectedLength: 0 }));
  const r = await w;
  const status = r.bhs[3] as number;
  // Fixed-format sense after the 2-byte SenseLength.
  return status === 0x02 ? { status, sense: [(r.data[4] as number) & 0x0f, r.data[14] as number, r.data[15] as number] } : { status };
}

describe('expanding a served volume (real processes)', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  let engine: Child;
  let control: string;
  let url: string;

  before(async () => {
    cluster = await Cluster.create(OLD);
    const replicas = await cluster.addReplicas(3);
    const args = ['engine', 'serve', '--volume', 'grow1', '--size', '16Mi', '--secret-file', cluster.secretFile, '--control', '127.0.0.1:0', '--io-timeout', '2000', '--frontend', 'iscsi', '--listen', '127.0.0.1:0'];
    for (const r of replicas) args.push('--replica', r.address);
    engine = await spawnReady(args);
    cluster.children.push(engine);
    control = engine.ready.control as string;
    url = `iscsi://${engine.ready.portal}/${engine.ready.iqn}/0`;
  });
  after(async () => cluster.cleanup());

  it('grows online: a logged-in initiator gets CAPACITY DATA HAS CHANGED, READ CAPACITY says the new size, and the new blocks hold data', async () => {
    const ini = await TestInitiator.open(engine.ready.portal as string, { targetName: engine.ready.iqn as string });
    try {
      assert.deepEqual((await testUnitReady(ini)).sense, [0x06, 0x29, 0x00], 'the power-on unit attention first');
      assert.equal((await testUnitReady(ini)).status, 0);
      const w = await run('qemu-io', ['-f', 'raw', '-c', `write -P 0xa5 ${OLD - 65536} 65536`, url]);
      assert.doesNotMatch(w.stdout + w.stderr, /error/i);
      const victim = cluster.replicas[2]!;
      await victim.kill('SIGKILL');
      assert.equal((await engineStatusUntil(control, (s) => s.replicas[2]?.mode === 'ERR', 5000)).replicas[2]?.mode, 'ERR');

      const out = await engineCli('expand', '--control', control, '--size', '48Mi');
      assert.match(out.stdout, /volume is 48 ?Mi/);
      assert.deepEqual((await testUnitReady(ini)).sense, [0x06, 0x2a, 0x09], 'CAPACITY DATA HAS CHANGED');
      assert.equal((await testUnitReady(ini)).status, 0, 'reported once');
    } finally {
      ini.destroy();
    }
    const cap = await run('iscsi-readcapacity16', [url]);
    assert.match(cap.stdout, new RegExp(`Total size:\\s*${NEW}\\b`));
    const io = await run('qemu-io', ['-f', 'raw', '-c', `write -P 0x5c ${40 * MiB} ${MiB}`, '-c', `read -P 0x5c ${40 * MiB} ${MiB}`, '-c', `read -P 0xa5 ${OLD - 65536} 65536`, '-c', `read -P 0 ${OLD} 65536`, url]);
    assert.doesNotMatch(io.stdout + io.stderr, /Pattern verification failed|error/i);
    assert.equal((await engineStatus(control)).sizeBytes, NEW);
  });

  it('grows a replica that was away when it is added back, which then holds the same bytes as the others', async () => {
    const victim = cluster.replicas[2]!;
    await victim.start(); // still at the old size: its store never heard of the expansion
    const added = await engineCli('add-replica', '--control', control, victim.address);
    assert.match(added.stdout, /added; delta rebuild started/);
    const s = await engineStatusUntil(control, (x) => x.replicas.every((r) => r.mode === 'RW'), 20_000);
    assert.deepEqual(
      s.replicas.map((r) => r.mode),
      ['RW', 'RW', 'RW'],
    );
    const [a, b, c] = await Promise.all(cluster.replicas.map((r) => cluster.contents(r, NEW)));
    assert.ok(a!.data.subarray(40 * MiB, 41 * MiB).every((x) => x === 0x5c));
    assert.ok(a!.data.equals(b!.data) && a!.data.equals(c!.data), 'replica contents differ');
    assert.equal(b!.allocated, a!.allocated);
    assert.equal(c!.allocated, a!.allocated);
  });

  it('reopens a grown replica only at the new size, naming both sizes otherwise', async () => {
    const r = cluster.replicas[0]!;
    await r.kill('SIGTERM');
    await assert.rejects(r.start(), /holds a volume of 50331648 bytes .*not the 16777216 bytes/);
    r.sizeBytes = NEW;
    await r.start();
    assert.ok(r.running);
  });

  it('refuses a shrink: exit 1, the reason on stderr, the size unchanged', async () => {
    await assert.rejects(engineCli('expand', '--control', control, '--size', '8Mi'), (e: { code: number; stderr: string }) => e.code === 1 && /cannot shrink from 50331648 to 8388608 bytes/.test(e.stderr));
    assert.equal((await engineStatus(control)).sizeBytes, NEW);
  });
});
