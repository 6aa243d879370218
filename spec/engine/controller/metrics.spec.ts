import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EngineMetrics, LATENCY_BUCKETS, escapeLabelValue } from '../../../engine/controller/metrics.ts';

/** The value of the one sample line `name{labels} value` in an exposition, or undefined. */
function sample(text: string, series: string): string | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line?.slice(series.length + 1);
}

describe('engine metrics exposition', () => {
  it('counts a latency equal to a bound in that bucket (le is inclusive) and one above 10 s only in +Inf', async () => {
    const m = new EngineMetrics('v');
    const io = m.replicaIo('10.0.0.1:9502');
    io.record('write', 4096, 0.001, true);
    io.record('write', 4096, 0.0011, true);
    io.record('write', 0, 11, false);
    const text = await m.text();
    const l = (le: string) => sample(text, `shorthorn_engine_replica_io_seconds_bucket{volume="v",replica="10.0.0.1:9502",op="write",le="${le}"}`);
    assert.equal(l('0.0005'), '0');
    assert.equal(l('0.001'), '1');
    assert.equal(l('0.0025'), '2');
    assert.equal(l('10'), '2');
    assert.equal(l('+Inf'), '3');
    assert.equal(sample(text, 'shorthorn_engine_replica_io_seconds_count{volume="v",replica="10.0.0.1:9502",op="write"}'), '3');
    assert.equal(Number(sample(text, 'shorthorn_engine_replica_io_seconds_sum{volume="v",replica="10.0.0.1:9502",op="write"}')), 0.001 + 0.0011 + 11);
    assert.equal(sample(text, 'shorthorn_engine_replica_io_total{volume="v",replica="10.0.0.1:9502",op="write"}'), '3');
    assert.equal(sample(text, 'shorthorn_engine_replica_io_bytes_total{volume="v",replica="10.0.0.1:9502",op="write"}'), '8192');
    assert.equal(sample(text, 'shorthorn_engine_replica_io_errors_total{volume="v",replica="10.0.0.1:9502",op="write"}'), '1');
    assert.equal(LATENCY_BUCKETS.length + 1, text.split('\n').filter((x) => x.startsWith('shorthorn_engine_replica_io_seconds_bucket{')).length);
  });

  it('keeps ops apart, returns the same recorder for an address, and declares each family once', async () => {
    const m = new EngineMetrics('v');
    assert.equal(m.replicaIo('a:1'), m.replicaIo('a:1'));
    m.replicaIo('a:1').record('read', 512, 0.0001, true);
    m.replicaIo('a:1').record('flush', 0, 0.002, true);
    m.replicaIo('b:2').record('read', 512, 0.0001, true);
    m.setMode('a:1', 'RW');
    const text = await m.text();
    assert.equal(sample(text, 'shorthorn_engine_replica_io_total{volume="v",replica="a:1",op="read"}'), '1');
    assert.equal(sample(text, 'shorthorn_engine_replica_io_total{volume="v",replica="a:1",op="flush"}'), '1');
    assert.equal(sample(text, 'shorthorn_engine_replica_io_total{volume="v",replica="b:2",op="read"}'), '1');
    for (const family of ['shorthorn_engine_replica_io_total', 'shorthorn_engine_replica_io_seconds', 'shorthorn_engine_replica_mode']) {
      assert.equal(text.split('\n').filter((x) => x.startsWith(`# TYPE ${family} `)).length, 1, family);
    }
  });

  it('escapes backslashes, quotes and newlines in label values', async () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
    const m = new EngineMetrics('vol"1');
    m.replicaIo('x"y').record('ping', 0, 0.0001, true);
    assert.equal(sample(await m.text(), 'shorthorn_engine_replica_io_total{volume="vol\\"1",replica="x\\"y",op="ping"}'), '1');
  });
});
