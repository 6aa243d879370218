import type { Engine } from '../../api/codecs/engine.ts';
import type { Replica } from '../../api/codecs/replica.ts';
import type { Check } from '../context.ts';
import { violation, type Finding } from '../findings.ts';

/** On CREATE, the Volume a Replica or Engine belongs to must exist and not be on its way out. */
export const checkVolumeExists: Check<Replica | Engine> = ({ operation, object, facts }) => {
  if (operation !== 'CREATE') return [];
  const v = object.spec.volumeName;
  if (facts.volume === 'missing') return [violation('instance-volume', 'spec.volumeName', `volume "${v}" does not exist`)];
  if (facts.volume === 'deleting') return [violation('instance-volume', 'spec.volumeName', `volume "${v}" is being deleted`, 403)];
  return [];
};

function onceSet(field: string, a: string, b: string): Finding[] {
  if (a === '' || a === b) return [];
  return [violation('instance-immutable', `spec.${field}`, `is immutable once set, cannot change from "${a}" to "${b}"`)];
}

/** Replica: volumeName, nodeID and diskID are immutable once set (a replica's data lives where it was made). */
export const checkReplicaImmutable: Check<Replica> = ({ object, old }) => {
  if (old === undefined) return [];
  return (['volumeName', 'nodeID', 'diskID'] as const).flatMap((f) => onceSet(f, old.spec[f], object.spec[f]));
};

/**
 * Engine: volumeName is immutable once set. nodeID follows the volume's attachment, so it follows
 * the Volume's rule: it may be set (attach) or cleared (detach), never moved from one node straight
 * to another.
 */
export const checkEngineImmutable: Check<Engine> = ({ object, old }) => {
  if (old === undefined) return [];
  const out = onceSet('volumeName', old.spec.volumeName, object.spec.volumeName);
  const [a, b] = [old.spec.nodeID, object.spec.nodeID];
  if (a !== '' && b !== '' && a !== b) out.push(violation('instance-immutable', 'spec.nodeID', `cannot move from "${a}" to "${b}" while set; clear it first (the engine stops on "${a}")`));
  return out;
};
