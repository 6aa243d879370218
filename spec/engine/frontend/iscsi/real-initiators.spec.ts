import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, serveTarget, type ServedTarget } from '../../../helpers/target-serve.ts';

// libiscsi (iscsi-ls, iscsi-inq) and QEMU (qemu-img, qemu-io) against `shorthorn target serve`.
const T = { timeout: 90_000 };

describe('real initiators against shorthorn target serve', T, () => {
  let s: ServedTarget;
  before(async () => {
    s = await serveTarget();
  });
  after(async () => {
    await s.stop();
  });

  it('iscsi-ls -s lists the target, its portal and LUN 0 with its size', async () => {
    const r = await run('iscsi-ls', ['-s', `iscsi://${s.portal}/`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Target:${s.iqn.replace(/\./g, '\\.')} Portal:${s.portal},1`));
    assert.match(r.stdout, /Lun:0\s+Type:DIRECT_ACCESS \(Size:6[34]M\)/);
  });

  it('iscsi-ls works with CRC32C header digests', async () => {
    const r = await run('iscsi-ls', ['-s', `iscsi://${s.portal}/?header_digest=crc32c`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /DIRECT_ACCESS/);
  });

  // iscsi-inq takes the page code in decimal (popt integer).
  const pages: Array<{ page: string; expect: RegExp }> = [
    { page: '0', expect: /Page:0x83 DEVICE_IDENTIFICATION/ },
    { page: '128', expect: /Unit Serial Number:\[[0-9a-f]+\]/i },
    { page: '131', expect: /DEVICE DESIGNATOR #0/ },
    { page: '176', expect: /maximum transfer length:\d+/ },
  ];
  for (const p of pages) {
    it(`iscsi-inq reads VPD page ${Number(p.page).toString(16).padStart(2, '0')}h`, async () => {
      const r = await run('iscsi-inq', ['-e', '1', '-c', p.page, s.url()]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, p.expect);
    });
  }

  it('qemu-img convert copies an image into the LUN and out again byte-identical', async () => {
    const src = join(s.dir, 'src.raw');
    const back = join(s.dir, 'back.raw');
    const image = randomBytes(6 * 1024 * 1024 + 4096);
    writeFileSync(src, image);
    const put = await run('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', src, s.url()]);
    assert.equal(put.code, 0, put.stderr);
    const get = await run('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', s.url(), back]);
    assert.equal(get.code, 0, get.stderr);
    const copied = readFileSync(back);
    assert.equal(copied.length, 64 * 1024 * 1024);
    assert.ok(copied.subarray(0, image.length).equals(image));
  });

  // libiscsi's protocol suites (the SCSI suites belong to the SCSI layer's conformance run).
  const suites: Array<{ suite: string; paths: number; tests: number }> = [
    { suite: 'ALL.iSCSIcmdsn', paths: 1, tests: 2 },
    { suite: 'ALL.iSCSIdatasn', paths: 1, tests: 1 },
    { suite: 'ALL.iSCSIResiduals', paths: 1, tests: 10 },
    { suite: 'ALL.iSCSITMF', paths: 1, tests: 2 },
    { suite: 'ALL.MultipathIO', paths: 2, tests: 4 },
  ];
  for (const c of suites) {
    it(`iscsi-test-cu ${c.suite} passes all ${c.tests} tests${c.paths > 1 ? ' over two sessions to the target (two paths)' : ''}`, async () => {
      if (c.suite === 'ALL.MultipathIO') {
        // NOTE: MultipathIO.CompareAndWrite zeroes LBAs 0–255 with WRITE SAME but then compares LBA 256
        // too (its loop runs to i <= 255 + 1 blocks), so it only passes where LBA 256 already holds zeros.
        const z = await run('qemu-io', ['-f', 'raw', '-c', 'write -P 0 128k 512', s.url()]);
        assert.equal(z.code, 0, z.stderr);
      }
      const r = await run('iscsi-test-cu', ['--dataloss', '-t', c.suite, ...Array.from({ length: c.paths }, () => s.url())]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`tests\\s+${c.tests}\\s+${c.tests}\\s+${c.tests}\\s+0\\s`), r.stdout);
      assert.doesNotMatch(r.stdout, /SKIPPED/);
    });
  }

  it('qemu-io writes patterns and reads them back (4 KiB to 1 MiB, aligned and not)', async () => {
    const cmds = [
      'write -P 0x5a 0 4k', 'read -P 0x5a 0 4k',
      'write -P 0xa5 1M 1M', 'read -P 0xa5 1M 1M',
      'write -P 0x33 3584 8192', 'read -P 0x33 3584 8192',
      'aio_write -P 0x11 8M 64k', 'aio_write -P 0x22 9M 64k', 'aio_flush',
      'read -P 0x11 8M 64k', 'read -P 0x22 9M 64k',
    ];
    const r = await run('qemu-io', ['-f', 'raw', ...cmds.flatMap((c) => ['-c', c]), s.url()]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /Pattern verification failed|error/i);
    assert.equal((r.stdout.match(/^read /gm) ?? []).length, 5);
  });

  it('qemu-io: 1 MiB writes in flight at once, twice over, each read back with its own pattern (recycled write buffers never mix)', async () => {
    const round = (base: number) => Array.from({ length: 12 }, (_, i) => `aio_write -P 0x${(base + i).toString(16)} ${20 + i}M 1M`);
    const check = (base: number) => Array.from({ length: 12 }, (_, i) => `read -P 0x${(base + i).toString(16)} ${20 + i}M 1M`);
    const cmds = [...round(0x40), 'aio_flush', ...check(0x40), ...round(0x80), 'aio_flush', ...check(0x80)];
    const r = await run('qemu-io', ['-f', 'raw', ...cmds.flatMap((c) => ['-c', c]), s.url()]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /Pattern verification failed|error/i);
    assert.equal((r.stdout.match(/^read /gm) ?? []).length, 24);
  });
});

describe('CHAP with real initiators', T, () => {
  let s: ServedTarget;
  before(async () => {
    s = await serveTarget(['--chap-user', 'alice', '--chap-secret', 'alice-secret-12', '--mutual-user', 'tgt', '--mutual-secret', 'target-secret-12']);
  });
  after(async () => {
    await s.stop();
  });

  const cases: Array<{ name: string; url: () => string; env?: NodeJS.ProcessEnv; ok: boolean }> = [
    { name: 'no credentials', url: () => `iscsi://${s.portal}/`, ok: false },
    { name: 'a wrong secret', url: () => `iscsi://alice%25wrong-secret@${s.portal}/`.replace('%25', '%'), ok: false },
    { name: 'the right secret (one-way)', url: () => `iscsi://alice%alice-secret-12@${s.portal}/`, ok: true },
    { name: 'mutual CHAP through LIBISCSI_CHAP_TARGET_* variables', url: () => `iscsi://alice%alice-secret-12@${s.portal}/`, env: { LIBISCSI_CHAP_TARGET_USERNAME: 'tgt', LIBISCSI_CHAP_TARGET_PASSWORD: 'target-secret-12' }, ok: true },
    { name: 'mutual CHAP where the initiator expects another target secret', url: () => `iscsi://alice%alice-secret-12@${s.portal}/`, env: { LIBISCSI_CHAP_TARGET_USERNAME: 'tgt', LIBISCSI_CHAP_TARGET_PASSWORD: 'not-the-target' }, ok: false },
  ];
  for (const c of cases) {
    it(`iscsi-ls -s with ${c.name} ${c.ok ? 'lists the LUN' : 'is refused'}`, async () => {
      const r = await run('iscsi-ls', ['-s', c.url()], c.env);
      if (c.ok) {
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /Lun:0\s+Type:DIRECT_ACCESS/);
      } else {
        assert.notEqual(r.code, 0);
        assert.doesNotMatch(r.stdout, /Lun:0/);
      }
    });
  }

  it('qemu-io logs in with mutual CHAP given as URL arguments', async () => {
    const r = await run('qemu-io', ['-f', 'raw', '-c', 'write -P 0x77 0 4k', '-c', 'read -P 0x77 0 4k', `${s.url('alice%alice-secret-12')}?target_user=tgt&target_password=target-secret-12`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /read 4096\/4096/);
  });
});
