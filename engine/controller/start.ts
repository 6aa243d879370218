import * as E from 'fp-ts/Either';
import { dirtyRecordsIn } from './dirty-regions.ts';
import { Engine, resolveEngineOptions, type EngineOptions } from './engine.ts';
import { describeControlError, EngineStartError } from './errors.ts';
import { connectHandle, planRebuild, startRebuild } from './membership.ts';
import type { ReplicaHandle } from './replica-handle.ts';

/**
 * Engine start: connect every replica, read its info, and trust for reads only the replicas at the
 * highest revision that are not mid-rebuild and that no trusted replica records as having missed
 * writes. The others join WO and are rebuilt (delta when the record allows). No trusted replica:
 * refuse to start, naming each replica's reason.
 */

/**
 * A replica that stopped uncleanly (info.dirty) persisted its revision at its last flush but may
 * hold some later, unflushed writes that its peers do not: equal revisions no longer mean equal
 * data. Keep the cleanly stopped replicas (they agree), or if none, exactly one; the rest are
 * rebuilt from it, so every read returns the same data whichever replica serves it.
 */
function oneAuthorityIfUnclean(top: readonly ReplicaHandle[]): ReplicaHandle[] {
  if (!top.some((h) => h.info?.dirty === true)) return [...top];
  const clean = top.filter((h) => h.info?.dirty !== true);
  return clean.length > 0 ? clean : top.slice(0, 1);
}

/** Opens the engine over `addresses`; rejects with EngineStartError when no replica can be trusted. */
export async function openEngine(options: EngineOptions, addresses: readonly string[]): Promise<Engine> {
  const engine = new Engine(resolveEngineOptions(options));
  const handles: ReplicaHandle[] = [];
  for (const a of new Set(addresses)) {
    const h = engine.newHandle(a);
    h.cause = new Error('not connected yet');
    engine.replicas.push(h);
    handles.push(h);
  }
  const results = await Promise.all(handles.map((h) => connectHandle(engine, h)));
  const reasons = new Map<ReplicaHandle, string>();
  results.forEach((r, i) => {
    const h = handles[i] as ReplicaHandle;
    if (E.isLeft(r)) {
      const why = describeControlError(r.left);
      h.cause = new Error(why);
      reasons.set(h, why);
      engine.metrics.setMode(h.address, 'ERR');
      engine.log.warn(`replica ${h.address} set to ERR: ${why}`, { replica: h.address });
    }
  });
  const connected = handles.filter((h) => h.conn !== undefined && h.info !== undefined);
  for (const h of connected) if (h.info?.rebuilding === true) reasons.set(h, 'it was mid-rebuild (never a source)');
  const candidates = connected.filter((h) => h.info?.rebuilding !== true);
  const revisionOf = (h: ReplicaHandle) => BigInt(h.info?.revision ?? '0');
  const highest = candidates.reduce((m, h) => (revisionOf(h) > m ? revisionOf(h) : m), -1n);
  const top = candidates.filter((h) => revisionOf(h) === highest);
  for (const h of candidates) if (revisionOf(h) < highest) reasons.set(h, `its revision ${revisionOf(h)} is behind the highest, ${highest}`);
  for (const h of top) {
    const records = dirtyRecordsIn(h.info?.extras ?? {}, engine.sizeBytes, engine.dirty.regionBytes, (key, why) => engine.log.warn(`ignoring bad dirty record ${key} on ${h.address}: ${why}`));
    for (const r of records) engine.dirty.adopt(r);
  }
  const recorded = top.filter((h) => !engine.dirty.records.has(h.info?.replicaId ?? ''));
  for (const h of top) if (!recorded.includes(h)) reasons.set(h, 'another replica records writes it missed');
  const trusted = oneAuthorityIfUnclean(recorded);
  for (const h of recorded) if (!trusted.includes(h)) reasons.set(h, 'it stopped uncleanly, so its unflushed writes may differ from the others');
  if (trusted.length === 0) {
    await engine.close();
    const list = handles.map((h) => `${h.address}: ${reasons.get(h) ?? 'unknown'}`).join('; ');
    throw new EngineStartError(`volume ${options.volume}: no replica can be trusted (${list})`);
  }
  for (const h of trusted) engine.place(h, 'RW');
  // A flush now clears the trusted replicas' unclean mark, so the next start need not rebuild.
  await engine.flush().catch((e: unknown) => engine.log.warn(`first flush failed: ${(e as Error).message}`));
  const listed = new Set(connected.map((h) => h.info?.replicaId));
  const addressesSet = new Set(addresses);
  for (const id of [...engine.dirty.records.keys()]) {
    const rec = engine.dirty.records.get(id);
    if (rec !== undefined && !listed.has(id) && !addressesSet.has(rec.address)) await engine.dirty.drop(id).catch(() => undefined);
  }
  for (const h of connected) {
    if (trusted.includes(h)) continue;
    const { plan, why } = planRebuild(engine, h.info as NonNullable<typeof h.info>);
    const r = await startRebuild(engine, h, plan, `${reasons.get(h) ?? 'behind'}; ${why}`);
    if (E.isLeft(r)) engine.setErr(h, new Error(describeControlError(r.left)));
  }
  engine.log.info(`volume ${options.volume} started`, { replicas: engine.replicas.map((h) => `${h.address}=${h.mode}`), revision: highest.toString() });
  return engine;
}
