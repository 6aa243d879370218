import type { Command } from '../api/cli/command.ts';

export { IDENTITY_FILE, checkDiskIdentity, parseIdentity, type DiskIdentity } from './identity.ts';
export { readDiskCapacity, defaultReservedBytes, type DiskCapacity } from './capacity.ts';
export { probeDisk, realProbeIo, PROBE_FILE, type ProbeIo, type ProbeResult } from './health.ts';
export { DiskCondition, DiskReason, diskConditions, diskReadiness, isUnderPressure, nodeConditions, type DiskObservation } from './conditions.ts';
export { buildDiskStatus, buildNodeStatus, ensureNode, isReplicaOnDisk, writeNodeStatus } from './report.ts';
export { startDiskMonitor, type DiskMonitor, type DiskMonitorOptions, type DiskState } from './monitor.ts';

/** The `shorthorn` subcommands this part owns (none: the agent command lives in cmd/agent.ts). */
export const commands: readonly Command[] = [];
