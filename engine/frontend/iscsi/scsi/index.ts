/** The SCSI layer of the iSCSI target: LUN 0 of a volume, behind the LogicalUnit seam. */
export { createBlockLogicalUnit, type BlockLogicalUnitOptions } from './block-unit.ts';
export type { LogicalUnit, Nexus, ScsiCommand, ScsiResult, TaskManagement } from './logical-unit.ts';
export { ScsiStatus } from './logical-unit.ts';
