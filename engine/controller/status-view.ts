import { humanBytes } from '../../api/quantity.ts';
import type { EngineStatus, ReplicaStatus } from './status.ts';

/**
 * Renders the engine status as a table for `shorthorn engine status` (pure: no I/O, no clock).
 */

const BAR_WIDTH = 20;

/** A text progress bar: `[#########-----------]  45%`. */
export function progressBar(done: number, total: number, width = BAR_WIDTH): string {
  const frac = total <= 0 ? 1 : Math.min(1, done / total);
  const full = Math.round(frac * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${String(Math.floor(frac * 100)).padStart(3)}%`;
}

function rebuildColumn(r: ReplicaStatus, bars: boolean): string {
  const b = r.rebuild;
  if (r.mode === 'ERR') return r.cause ?? '';
  if (b === undefined) return '';
  const figures = `${humanBytes(b.doneBytes)}/${humanBytes(b.totalBytes)} ${humanBytes(b.bytesPerSecond)}/s`;
  if (b.finished) return `${b.kind} rebuild from ${b.source} done: ${humanBytes(b.totalBytes)} in ${b.elapsedSeconds.toFixed(1)}s`;
  return `${b.kind} rebuild from ${b.source} ${bars ? progressBar(b.doneBytes, b.totalBytes) + ' ' : ''}${figures}`;
}

/** The status table; `bars` draws progress bars for rebuilds in progress. */
export function renderStatus(s: EngineStatus, bars = false): string {
  const rows = s.replicas.map((r) => [r.address, r.mode, r.revision ?? '-', rebuildColumn(r, bars)]);
  const head = ['REPLICA', 'MODE', 'REVISION', 'REBUILD / CAUSE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  const rw = s.replicas.filter((r) => r.mode === 'RW').length;
  return [`volume ${s.volume}  size ${humanBytes(s.sizeBytes)}  ${rw}/${s.replicas.length} RW`, line(head), ...rows.map(line)].join('\n') + '\n';
}
