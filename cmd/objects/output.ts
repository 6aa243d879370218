import { stringify } from 'yaml';
import { UsageError, type Flags, type Invocation } from '../../api/cli/command.ts';

/** The -o flag. */
export const OUTPUT_FLAG: Flags = {
  output: { type: 'string', short: 'o', help: 'output format: table, json or yaml', placeholder: 'FORMAT', default: 'table' },
};

export type OutputFormat = 'table' | 'json' | 'yaml';

/** The chosen output format, or a usage error naming the flag. */
export function outputFormat(inv: Invocation): OutputFormat {
  const o = inv.values.output ?? 'table';
  if (o === 'table' || o === 'json' || o === 'yaml') return o;
  throw new UsageError(`-o/--output: expected table, json or yaml, got "${String(o)}"`);
}

/** Renders rows as an aligned table with a header. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('   ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** Prints objects in the chosen format; `toRow` is used for tables. */
export function print<T>(inv: Invocation, fmt: OutputFormat, items: T | T[], header: readonly string[], toRow: (o: T) => string[], listKind?: string): void {
  const list = Array.isArray(items) ? items : [items];
  if (fmt === 'json') inv.stdout.write(JSON.stringify(Array.isArray(items) ? { apiVersion: 'v1', kind: listKind ?? 'List', items } : items, null, 2) + '\n');
  else if (fmt === 'yaml') inv.stdout.write(stringify(Array.isArray(items) ? { apiVersion: 'v1', kind: listKind ?? 'List', items } : items));
  else if (list.length === 0) inv.stdout.write('No resources found.\n');
  else inv.stdout.write(table(header, list.map(toRow)));
}

/** Time since an RFC 3339 timestamp, kubectl style (5s, 3m, 2h, 4d). */
export function age(ts: string | undefined, now = Date.now()): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
