import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as E from 'fp-ts/Either';
import { decode, formatInputError } from '../../api/decode.ts';
import { KINDS } from '../../api/kinds.ts';
import { Volume } from '../../api/codecs/volume.ts';
import { volume, node } from '../helpers/objects.ts';

function errorOf(codec: typeof Volume, input: unknown): string {
  const r = decode(codec, input);
  assert.ok(E.isLeft(r), 'expected a decoding failure');
  return formatInputError(r.left);
}

describe('decoding errors name the path and the rule', () => {
  const v = volume('v1');
  const cases: Array<[string, unknown, string]> = [
    ['numberOfReplicas 0', { ...v, spec: { ...v.spec, numberOfReplicas: 0 } }, 'spec.numberOfReplicas: expected an integer from 1 to 20, got 0'],
    ['numberOfReplicas as a string', { ...v, spec: { ...v.spec, numberOfReplicas: '3' } }, 'spec.numberOfReplicas: expected an integer from 1 to 20, got "3"'],
    ['unknown dataLocality', { ...v, spec: { ...v.spec, dataLocality: 'near' } }, 'spec.dataLocality: expected one of disabled, best-effort, strict-local, got "near"'],
    ['a size that is not a quantity', { ...v, spec: { ...v.spec, size: '10GB' } }, 'spec.size: expected a size such as 10Gi, 500M or a byte count, got "10GB"'],
    ['missing spec.size', { ...v, spec: { ...v.spec, size: undefined } }, 'spec.size: required (a size such as 10Gi, 500M or a byte count)'],
    ['a selector that is not a list', { ...v, spec: { ...v.spec, nodeSelector: 'ssd' } }, 'spec.nodeSelector: expected a list of strings, got "ssd"'],
    ['a selector entry that is not a string', { ...v, spec: { ...v.spec, diskSelector: ['ssd', 7] } }, 'spec.diskSelector.1: expected string, got 7'],
    ['wrong kind', { ...v, kind: 'Replica' }, 'kind: expected "Volume", got "Replica"'],
  ];
  for (const [name, input, want] of cases) it(name, () => assert.equal(errorOf(Volume, input), want));

  it('reports every wrong field, not only the first', () => {
    const msg = errorOf(Volume, { ...v, spec: { ...v.spec, numberOfReplicas: 21, accessMode: 'rw' } });
    assert.match(msg, /spec\.numberOfReplicas: expected an integer from 1 to 20, got 21/);
    assert.match(msg, /spec\.accessMode: expected one of rwo, rwop, rwx, got "rw"/);
  });

  it('lets unknown fields pass (Kubernetes objects are decoded non-exact)', () => {
    const r = decode(Volume, { ...v, spec: { ...v.spec, futureField: 1 }, metadata: { ...v.metadata, managedFields: [] } });
    assert.ok(E.isRight(r));
  });

  it('decodes every builder object with its kind codec', () => {
    assert.ok(E.isRight(decode(KINDS.Volume.codec, volume('a'))));
    assert.ok(E.isRight(decode(KINDS.Node.codec, node('n1', { d1: '/var/lib/shorthorn' }))));
  });
});
