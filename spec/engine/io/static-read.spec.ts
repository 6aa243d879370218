import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, Socket, type AddressInfo } from 'node:net';
import { receiveIntoBuffer } from '../../../engine/io/static-read.ts';

describe('receiveIntoBuffer (an accepted socket reading into one reused buffer)', { timeout: 20_000 }, () => {
  it('on this Node, delivers 8 MiB in order through the same buffer, honours pause/resume, then end and close', async () => {
    const sent = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < sent.length; i += 4) sent.writeUInt32BE(i, i);
    const rx = Buffer.alloc(4096);
    const got: Buffer[] = [];
    let sameBuffer = true;
    let reads = 0;
    let pausedReads = 0;
    let paused = false;
    const done = new Promise<{ ended: boolean }>((resolve, reject) => {
      const server = createServer({ pauseOnConnect: true }, (socket) => {
        assert.equal(
          receiveIntoBuffer(socket, rx, (chunk) => {
            sameBuffer &&= chunk.buffer === rx.buffer && chunk.byteOffset === rx.byteOffset;
            got.push(Buffer.from(chunk));
            reads++;
            if (paused) pausedReads++;
            if (reads === 10) {
              paused = true;
              socket.pause();
              setTimeout(() => {
                paused = false;
                socket.resume();
              }, 100);
            }
          }),
          true,
          'Node 20 has the internals static-read.ts relies on',
        );
        let ended = false;
        socket.on('end', () => (ended = true));
        socket.on('error', reject);
        socket.on('close', () => {
          server.close();
          resolve({ ended });
        });
        socket.resume();
      });
      server.listen(0, '127.0.0.1', () => {
        const c = connect((server.address() as AddressInfo).port, '127.0.0.1', () => c.end(sent));
      });
    });
    const { ended } = await done;
    assert.ok(sameBuffer, 'every chunk is a view of the one buffer');
    assert.ok(reads >= sent.length / rx.length, `${reads} reads of at most ${rx.length} bytes`);
    assert.equal(pausedReads, 0, 'no read while paused');
    assert.ok(Buffer.concat(got).equals(sent), 'the bytes arrive whole and in order');
    assert.ok(ended, "'end' is emitted");
  });

  it('changes nothing on a socket without a handle, so the caller falls back to data events', async () => {
    const s = new Socket();
    assert.equal(receiveIntoBuffer(s, Buffer.alloc(16), () => undefined), false);
    s.destroy();
    await once(s, 'close');
  });
});
