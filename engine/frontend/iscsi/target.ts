import type { IscsiTarget, IscsiTargetOptions } from '../index.ts';

/** Starts the iSCSI target (being written: issue 4). */
export async function startTarget(_opts: IscsiTargetOptions): Promise<IscsiTarget> {
  throw new Error('the iSCSI target is not built yet');
}
