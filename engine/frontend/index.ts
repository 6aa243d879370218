import type { BlockDevice } from '../block-device.ts';
import type { Logger } from '../../api/log.ts';

/** CHAP credentials of a target: the initiator must prove `secret`; with mutual, the target proves `mutualSecret`. */
export interface ChapCredentials {
  readonly user: string;
  readonly secret: string;
  readonly mutualUser?: string;
  readonly mutualSecret?: string;
}

export interface IscsiTargetOptions {
  /** The volume name; the target is `iqn.2026-11.io.shorthorn:<volume>`. */
  readonly volume: string;
  readonly device: BlockDevice;
  readonly host: string;
  /** 0 = any free port. */
  readonly port: number;
  readonly chap?: ChapCredentials;
  readonly log: Logger;
}

/** A running iSCSI target. */
export interface IscsiTarget {
  readonly iqn: string;
  /** host:port actually listened on. */
  readonly portal: string;
  close(): Promise<void>;
}

/** The IQN of a volume's target. */
export function volumeIqn(volume: string): string {
  return `iqn.2026-11.io.shorthorn:${volume}`;
}

/** Starts the iSCSI target for a volume on a block device (implemented in iscsi/target.ts). */
export async function startIscsiTarget(opts: IscsiTargetOptions): Promise<IscsiTarget> {
  const { startTarget } = await import('./iscsi/target.ts');
  return startTarget(opts);
}
