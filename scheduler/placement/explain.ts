import { humanBytes } from '../../api/quantity.ts';
import type { DiskInfo, PlacementView } from '../graph/types.ts';
import { checkDisk, lackingTag, schedulableBytes, type SpreadState } from './filter.ts';
import { REASON_CODES, REASON_TEXT, ReasonCode } from './reasons.ts';
import type { VolumeRequest } from './request.ts';

/** Why no disk could take the next replica: a reason per disk, counted per code. */
export interface Explanation {
  /** Disks looked at: every disk of the cluster. */
  readonly considered: number;
  /** Disks that passed every rule (0 when the placement failed). */
  readonly available: number;
  /** Disks per reason code; the counts add up to considered − available. */
  readonly reasons: ReadonlyMap<ReasonCode, number>;
  /** Disk key (`node/disk`) → the reason text, for the disks examined one by one. */
  readonly perDisk: ReadonlyMap<string, string>;
  /** kube-scheduler style: `0/12 disks are available: 4 insufficient storage (…), 6 node anti-affinity (…)`. */
  readonly message: string;
}

interface Bucket {
  count: number;
  tags: Set<string>;
  maxBytes: number;
}

function detail(req: VolumeRequest, code: ReasonCode, b: Bucket, attachNode: string | undefined): string {
  const need = humanBytes(req.sizeBytes);
  const tags = () => [...b.tags].sort().map((t) => JSON.stringify(t)).join(', ');
  switch (code) {
    case ReasonCode.NodeTags:
      return ` (node lacks ${tags()})`;
    case ReasonCode.DiskTags:
      return ` (disk lacks ${tags()})`;
    case ReasonCode.NotAttachNode:
      return ` (not the attach node ${attachNode ?? ''})`;
    case ReasonCode.ZoneAntiAffinity:
      return ' (zone already holds a replica)';
    case ReasonCode.NodeAntiAffinity:
      return ' (node already holds a replica)';
    case ReasonCode.DiskAntiAffinity:
      return ' (disk already holds a replica)';
    case ReasonCode.OverProvisioned:
      return ` (need ${need}, ${humanBytes(Math.max(0, Math.floor(b.maxBytes)))} schedulable under ${req.overProvisioningPercent}% over-provisioning)`;
    case ReasonCode.MinimalAvailable:
      return ` (need ${need}, ${humanBytes(Math.max(0, b.maxBytes))} free under ${req.minimalAvailablePercent}% minimal available)`;
    default:
      return '';
  }
}

/**
 * Checks every disk against the rules with the spread as it stands and words the outcome as
 * kube-scheduler does: entries sorted by their text, each disk counted once under the first rule
 * it breaks. With strict-local and an attach node only that node's disks are examined one by one;
 * every other disk counts as "strict-local (not the attach node)".
 */
export function explain(view: PlacementView, req: VolumeRequest, s: SpreadState, attachNode: string | undefined): Explanation {
  const buckets = new Map<ReasonCode, Bucket>();
  const perDisk = new Map<string, string>();
  let available = 0;
  const strictNode = req.dataLocality === 'strict-local' && attachNode !== undefined ? view.node(attachNode) : undefined;
  const strict = req.dataLocality === 'strict-local' && attachNode !== undefined;
  const disks: Iterable<DiskInfo> = strict ? (strictNode?.disks ?? []) : view.disks();
  let examined = 0;
  for (const d of disks) {
    examined++;
    const code = checkDisk(req, s, d, attachNode);
    if (code === undefined) {
      available++;
      continue;
    }
    let b = buckets.get(code);
    if (b === undefined) {
      b = { count: 0, tags: new Set(), maxBytes: -Infinity };
      buckets.set(code, b);
    }
    b.count++;
    const tag = lackingTag(req, d, code);
    if (tag !== undefined) b.tags.add(tag);
    if (code === ReasonCode.OverProvisioned) b.maxBytes = Math.max(b.maxBytes, schedulableBytes(req, s, d));
    if (code === ReasonCode.MinimalAvailable) b.maxBytes = Math.max(b.maxBytes, d.availableBytes - (s.addedActual.get(d.key) ?? 0));
    perDisk.set(d.key, REASON_TEXT[code]);
  }
  if (strict && view.diskCount > examined) {
    buckets.set(ReasonCode.NotAttachNode, { count: view.diskCount - examined, tags: new Set(), maxBytes: 0 });
  }
  const reasons = new Map<ReasonCode, number>();
  for (const code of REASON_CODES) {
    const b = buckets.get(code);
    if (b !== undefined) reasons.set(code, b.count);
  }
  const parts = [...reasons.keys()].map((code) => {
    const b = buckets.get(code) as Bucket;
    return `${b.count} ${REASON_TEXT[code]}${detail(req, code, b, attachNode)}`;
  });
  parts.sort((a, b) => {
    const ta = a.replace(/^\d+ /, '');
    const tb = b.replace(/^\d+ /, '');
    return ta < tb ? -1 : ta > tb ? 1 : 0;
  });
  const considered = view.diskCount;
  const head = `${available}/${considered} disks are available`;
  return { considered, available, reasons, perDisk, message: parts.length === 0 ? head : `${head}: ${parts.join(', ')}` };
}
