import { Socket, type SocketConstructorOpts } from 'node:net';

/**
 * Receives an accepted socket's bytes into one reused buffer (net.Socket's `onread` option), instead
 * of a new ArrayBuffer of up to 64 KiB per read. Those chunks are external memory that V8 answers
 * with full collections: for a stream of 1 MiB writes they were 40% of the target's CPU.
 *
 * Node 20 offers `onread` only to sockets it constructs for a client (`net.connect`, `new Socket`),
 * not to the sockets a server accepts. Underneath they are the same stream handle, so this gives an
 * accepted socket what the `onread` option would have set: the handle reads into `buffer` and the
 * socket hands each read to `onChunk` instead of emitting 'data'. The internals it needs (the handle's
 * `useUserBuffer`, the socket's `kBuffer`/`kBufferCb` slots, found on a socket built with `onread`)
 * are checked first; without them it changes nothing and returns false, and the caller listens to
 * 'data' as usual.
 *
 * Contract: call it before the socket has read anything (a server with `pauseOnConnect`), then
 * resume. `onChunk` gets a view of `buffer` that the next read overwrites: it must copy whatever it
 * keeps before returning. 'end', 'close', 'error', pause() and resume() work as usual.
 */

const slots = (() => {
  // `onread` is a constructor option in Node's net.js; @types/node lists it for net.connect only.
  const probe = new Socket({ onread: { buffer: Buffer.alloc(1), callback: () => undefined } } as SocketConstructorOpts);
  const symbols = Object.getOwnPropertySymbols(probe);
  probe.destroy();
  const kBuffer = symbols.find((s) => s.description === 'kBuffer');
  const kBufferCb = symbols.find((s) => s.description === 'kBufferCb');
  return kBuffer === undefined || kBufferCb === undefined ? undefined : { kBuffer, kBufferCb };
})();

/** Makes `socket` read into `buffer` and call `onChunk` per read; false when this Node cannot (use 'data'). */
export function receiveIntoBuffer(socket: Socket, buffer: Buffer, onChunk: (chunk: Buffer) => void): boolean {
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: (b: Uint8Array) => void } | null })._handle;
  if (slots === undefined || handle === null || handle === undefined || typeof handle.useUserBuffer !== 'function') return false;
  handle.useUserBuffer(buffer);
  const s = socket as unknown as Record<symbol, unknown>;
  s[slots.kBuffer] = buffer;
  // Node calls this with (bytes read, buffer); returning false would pause the socket.
  s[slots.kBufferCb] = (n: number) => {
    onChunk(buffer.subarray(0, n));
  };
  return true;
}
