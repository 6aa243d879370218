import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import * as E from 'fp-ts/Either';
import { parse } from 'yaml';
import { decode } from '../../api/decode.ts';
import { KINDS, type Kind } from '../../api/kinds.ts';
import { CRDS, openApiSchema } from '../../manifests/crds/schemas.ts';
import { renderCrds } from '../../scripts/gen-crds.ts';
import { node, setting, volume } from '../helpers/objects.ts';

const API = 'shorthorn.io/v1beta1';
const replica = (spec: Record<string, unknown> = {}) => ({
  apiVersion: API,
  kind: 'Replica',
  metadata: { name: 'r1' },
  spec: { volumeName: 'v1', volumeSize: '1Gi', nodeID: 'n1', diskID: 'd1', diskPath: '/data', dataDirectoryName: 'v1-abc', desireState: 'running', ...spec },
});
const engine = (spec: Record<string, unknown> = {}) => ({
  apiVersion: API,
  kind: 'Engine',
  metadata: { name: 'v1-e-0' },
  spec: { volumeName: 'v1', volumeSize: '1Gi', nodeID: 'n1', desireState: 'running', frontend: 'iscsi', replicaAddressMap: { r1: '127.0.0.1:10000' }, ...spec },
});
const v = volume('v1');

/** Samples both the codec and the CRD schema must accept. */
const valid: Array<[Kind, string, unknown]> = [
  ['Volume', 'a defaulted volume', v],
  ['Volume', 'a volume with status', { ...v, spec: { ...v.spec, nodeID: 'n1', nodeSelector: ['ssd'], replicaAutoBalance: 'best-effort' }, status: { state: 'attached', robustness: 'degraded', replicaModes: { r1: 'RW' }, conditions: [{ type: 'Scheduled', status: 'True' }] } }],
  ['Volume', 'sizes with every suffix form', { ...v, spec: { ...v.spec, size: '1.5Gi' } }],
  ['Replica', 'a replica', replica()],
  ['Replica', 'a failed replica', replica({ failedAt: '2026-11-24T10:00:00Z', healthyAt: '' })],
  ['Engine', 'an engine with modes', { ...engine(), status: { replicaModeMap: { r1: 'WO' }, rebuildStatus: { r1: { state: 'in-progress', doneBytes: '10', totalBytes: '100' } } } }],
  ['Node', 'a node with disks', node('n1', { d1: '/var/lib/shorthorn' })],
  ['Node', 'a node with disk status', { ...node('n1', { d1: '/d' }), status: { diskStatus: { d1: { storageMaximum: '1000', storageAvailable: '500', scheduledReplica: { r1: '100' } } } } }],
  ['Setting', 'a setting', setting('default-replica-count', '3')],
];

/** Samples both must refuse. */
const invalid: Array<[Kind, string, unknown]> = [
  ['Volume', 'numberOfReplicas 0', { ...v, spec: { ...v.spec, numberOfReplicas: 0 } }],
  ['Volume', 'numberOfReplicas 21', { ...v, spec: { ...v.spec, numberOfReplicas: 21 } }],
  ['Volume', 'a size in GB', { ...v, spec: { ...v.spec, size: '10GB' } }],
  ['Volume', 'a negative size', { ...v, spec: { ...v.spec, size: '-1Gi' } }],
  ['Volume', 'an unknown dataLocality', { ...v, spec: { ...v.spec, dataLocality: 'near' } }],
  ['Volume', 'an unknown state', { ...v, status: { state: 'running' } }],
  ['Volume', 'no spec', { apiVersion: API, kind: 'Volume', metadata: { name: 'x' } }],
  ['Volume', 'selectors that are not lists', { ...v, spec: { ...v.spec, diskSelector: 'ssd' } }],
  ['Replica', 'no diskID', replica({ diskID: undefined })],
  ['Replica', 'a failedAt that is not a time', replica({ failedAt: 'yesterday' })],
  ['Engine', 'an unknown replica mode', { ...engine(), status: { replicaModeMap: { r1: 'RO' } } }],
  ['Node', 'a disk without a path', { ...node('n1'), spec: { disks: { d1: { allowScheduling: true } } } }],
  ['Node', 'a fractional byte figure', { ...node('n1', { d1: '/d' }), status: { diskStatus: { d1: { storageMaximum: '1.5' } } } }],
  ['Setting', 'a setting without a value', { apiVersion: API, kind: 'Setting', metadata: { name: 's' } }],
];

describe('CRDs agree with the codecs', () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validators = new Map(CRDS.map((d) => [d.kind, ajv.compile(openApiSchema(d))]));
  const check = (kind: Kind, obj: unknown) => {
    const schemaOk = (validators.get(kind) as (o: unknown) => boolean)(JSON.parse(JSON.stringify(obj)));
    const codecOk = E.isRight(decode(KINDS[kind].codec as never, obj));
    return { schemaOk, codecOk };
  };
  for (const [kind, name, obj] of valid) it(`${kind}: both accept ${name}`, () => assert.deepEqual(check(kind, obj), { schemaOk: true, codecOk: true }));
  for (const [kind, name, obj] of invalid) it(`${kind}: both refuse ${name}`, () => assert.deepEqual(check(kind, obj), { schemaOk: false, codecOk: false }));

  it('has one CRD per kind, with the status subresource where the kind has status', () => {
    assert.deepEqual(CRDS.map((d) => d.kind).sort(), Object.keys(KINDS).sort());
    for (const d of CRDS) assert.equal(d.status !== undefined, KINDS[d.kind as Kind].hasStatus, d.kind);
  });

  it('shows size, replicas, state, robustness and node in `kubectl get volumes.shorthorn.io`', () => {
    const vol = CRDS.find((d) => d.kind === 'Volume');
    assert.deepEqual(vol?.columns.map((c) => c.name), ['Size', 'Replicas', 'State', 'Robustness', 'Node', 'Age']);
  });

  it('keeps the YAML in manifests/crds in step with schemas.ts (run scripts/gen-crds.ts)', () => {
    for (const [file, text] of renderCrds()) {
      assert.equal(readFileSync(join(import.meta.dirname, '..', '..', 'manifests', 'crds', file), 'utf8'), text, file);
      const crd = parse(text);
      assert.equal(crd.kind, 'CustomResourceDefinition');
    }
  });

  it('is structural: every schema node has a type, and no type inside anyOf', () => {
    const walk = (s: Record<string, unknown>, path: string, inAnyOf: boolean): void => {
      if (inAnyOf) assert.equal(s.type, undefined, `${path}: type inside anyOf`);
      else assert.ok(typeof s.type === 'string', `${path}: no type`);
      for (const [k, sub] of Object.entries((s.properties ?? {}) as Record<string, Record<string, unknown>>)) walk(sub, `${path}.${k}`, false);
      if (typeof s.additionalProperties === 'object') walk(s.additionalProperties as Record<string, unknown>, `${path}.*`, false);
      if (typeof s.items === 'object') walk(s.items as Record<string, unknown>, `${path}[]`, false);
      for (const b of (s.anyOf ?? []) as Record<string, unknown>[]) walk(b, `${path}|anyOf`, true);
    };
    for (const d of CRDS) walk(openApiSchema(d), d.kind, false);
  });
});
