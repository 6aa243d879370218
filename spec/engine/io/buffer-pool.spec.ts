import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool, MIN_POOLED_BYTES } from '../../../engine/io/buffer-pool.ts';

describe('BufferPool', () => {
  it('hands a given-back buffer to the next take of the same size, and only of that size', () => {
    const pool = new BufferPool(8 << 20);
    const a = pool.take(1 << 20);
    pool.give(a);
    assert.equal(pool.idle, 1 << 20);
    assert.notEqual(pool.take(512 * 1024), a, 'another size gets a new buffer');
    assert.equal(pool.take(1 << 20), a);
    assert.equal(pool.idle, 0);
    assert.notEqual(pool.take(1 << 20), a, 'a buffer is handed out once');
  });

  it('keeps neither small buffers nor views into a larger one', () => {
    const pool = new BufferPool(8 << 20);
    pool.give(Buffer.allocUnsafe(MIN_POOLED_BYTES - 512));
    pool.give(Buffer.allocUnsafe(4 * MIN_POOLED_BYTES).subarray(MIN_POOLED_BYTES, 3 * MIN_POOLED_BYTES));
    assert.equal(pool.idle, 0);
  });

  it('keeps at most its bound idle and drops the rest', () => {
    const pool = new BufferPool(3 << 20);
    for (let i = 0; i < 5; i++) pool.give(Buffer.allocUnsafe(1 << 20));
    assert.equal(pool.idle, 3 << 20);
  });
});
