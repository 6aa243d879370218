import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { decode, formatInputError, NonEmptyString, oneOf } from '../api/decode.ts';
import { GROUP } from '../api/codecs/meta.ts';
import type { ChainRequest, ChainResult, Phase } from './chain.ts';
import { getIn } from './draft.ts';
import { diffJson } from './json-diff.ts';

/** AdmissionReview v1 envelope (admission.k8s.io/v1, ../shared/REFERENCE.md §2). */
export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
export const ADMISSION_KIND = 'AdmissionReview';

/** The request of an AdmissionReview: the fields the chain reads; the rest pass (non-exact). */
export const AdmissionReviewRequest = t.intersection([
  t.type({
    uid: NonEmptyString,
    kind: t.type({ group: t.string, version: t.string, kind: t.string }),
    operation: oneOf(['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] as const),
  }),
  t.partial({
    resource: t.type({ group: t.string, version: t.string, resource: t.string }),
    subResource: t.string,
    name: t.string,
    namespace: t.string,
    object: t.unknown,
    oldObject: t.unknown,
    dryRun: t.boolean,
  }),
]);
export type AdmissionReviewRequest = t.TypeOf<typeof AdmissionReviewRequest>;

/** An AdmissionReview as the API server sends it. */
export const AdmissionReview = t.type({
  apiVersion: t.literal(ADMISSION_API_VERSION),
  kind: t.literal(ADMISSION_KIND),
  request: AdmissionReviewRequest,
});

/** The response half of an AdmissionReview. */
export interface AdmissionReviewResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: { readonly code: number; readonly message: string; readonly reason?: string };
  readonly patch?: string;
  readonly patchType?: 'JSONPatch';
  readonly warnings?: readonly string[];
}

/** A decoded review: its uid and the chain's request. */
export interface DecodedReview {
  readonly uid: string;
  readonly request: ChainRequest;
}

/**
 * Decodes a body into a review, or a message for a 400. Kinds outside shorthorn.io keep their group
 * in the kind (`apps/Deployment`), so the chain refuses them as unknown.
 */
export function decodeReview(body: unknown): E.Either<string, DecodedReview> {
  const r = decode(AdmissionReview, body);
  if (E.isLeft(r)) return E.left(`not an AdmissionReview ${ADMISSION_API_VERSION}: ${formatInputError(r.left)}`);
  const q = r.right.request;
  const nameInObject = getIn(q.object ?? q.oldObject, ['metadata', 'name']);
  const name = q.name !== undefined && q.name !== '' ? q.name : typeof nameInObject === 'string' ? nameInObject : '';
  const kind = q.kind.group === GROUP ? q.kind.kind : `${q.kind.group === '' ? 'core' : q.kind.group}/${q.kind.kind}`;
  const request: ChainRequest = {
    operation: q.operation,
    kind,
    name,
    namespace: q.namespace ?? '',
    ...(q.subResource !== undefined ? { subResource: q.subResource } : {}),
    object: q.object ?? undefined,
    oldObject: q.oldObject ?? undefined,
    dryRun: q.dryRun === true,
  };
  return E.right({ uid: q.uid, request });
}

const REASONS: Readonly<Record<number, string>> = { 400: 'BadRequest', 403: 'Forbidden', 422: 'Invalid', 500: 'InternalError', 503: 'ServiceUnavailable' };

/** Builds the AdmissionReview answer: uid echoed; a base64 JSONPatch for mutations; status for refusals. */
export function encodeReview(uid: string, before: unknown, result: ChainResult, phase: Phase): { apiVersion: string; kind: string; response: AdmissionReviewResponse } {
  const o = result.outcome;
  let response: AdmissionReviewResponse;
  if (!o.allowed) {
    response = { uid, allowed: false, status: { code: o.code, message: o.message, ...(REASONS[o.code] ? { reason: REASONS[o.code] } : {}) } };
  } else {
    const ops = phase === 'validate' ? [] : diffJson(before, o.object);
    response = {
      uid,
      allowed: true,
      ...(ops.length > 0 ? { patch: Buffer.from(JSON.stringify(ops)).toString('base64'), patchType: 'JSONPatch' as const } : {}),
      ...(o.warnings.length > 0 ? { warnings: o.warnings } : {}),
    };
  }
  return { apiVersion: ADMISSION_API_VERSION, kind: ADMISSION_KIND, response };
}
