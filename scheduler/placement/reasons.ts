/**
 * Why a disk cannot take a replica: one stable code per rule, in the order the filter checks them
 * (the first failing rule is the one reported, as kube-scheduler reports one reason per node).
 */
export const ReasonCode = {
  NodeNotReady: 'NodeNotReady',
  NodeUnschedulable: 'NodeUnschedulable',
  NodeEvicting: 'NodeEvictionRequested',
  DiskNotReady: 'DiskNotReady',
  DiskUnschedulable: 'DiskUnschedulable',
  DiskEvicting: 'DiskEvictionRequested',
  NodeTags: 'NodeTagsNotFulfilled',
  DiskTags: 'DiskTagsNotFulfilled',
  NotAttachNode: 'StrictLocalNotAttachNode',
  ZoneAntiAffinity: 'ZoneAntiAffinity',
  NodeAntiAffinity: 'NodeAntiAffinity',
  DiskAntiAffinity: 'DiskAntiAffinity',
  OverProvisioned: 'InsufficientSchedulableStorage',
  MinimalAvailable: 'InsufficientAvailableStorage',
} as const;
/** One of the reason codes. */
export type ReasonCode = (typeof ReasonCode)[keyof typeof ReasonCode];

/** Every code, in check order. */
export const REASON_CODES: readonly ReasonCode[] = Object.values(ReasonCode);

/** The short text of each code; details (sizes, tags) are added by explain.ts. */
export const REASON_TEXT: Readonly<Record<ReasonCode, string>> = {
  NodeNotReady: 'node not ready',
  NodeUnschedulable: 'node scheduling disabled',
  NodeEvictionRequested: 'node eviction requested',
  DiskNotReady: 'disk not ready',
  DiskUnschedulable: 'disk scheduling disabled',
  DiskEvictionRequested: 'disk eviction requested',
  NodeTagsNotFulfilled: 'node tags not fulfilled',
  DiskTagsNotFulfilled: 'tags not fulfilled',
  StrictLocalNotAttachNode: 'strict-local',
  ZoneAntiAffinity: 'zone anti-affinity',
  NodeAntiAffinity: 'node anti-affinity',
  DiskAntiAffinity: 'disk anti-affinity',
  InsufficientSchedulableStorage: 'insufficient storage',
  InsufficientAvailableStorage: 'insufficient storage',
};
