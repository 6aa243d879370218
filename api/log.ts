/**
 * Structured logs: one JSON object a line on stderr, with a level, a message, the component and
 * (where there is one) the object's kind/name. No dependency: the format is all we need.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Readonly<Record<Level, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A logger bound to a component and fields. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds these fields to every line. */
  with(fields: Record<string, unknown>): Logger;
}

/** Where lines go (a test can collect them). */
export type Sink = (line: string) => void;

function minLevel(): Level {
  const v = process.env.SHORTHORN_LOG_LEVEL;
  return v === 'debug' || v === 'info' || v === 'warn' || v === 'error' ? v : 'info';
}

function errorFields(v: unknown): unknown {
  if (v instanceof Error) return { message: v.message, name: v.name, ...(typeof (v as { code?: unknown }).code !== 'undefined' ? { code: (v as { code?: unknown }).code } : {}) };
  return v;
}

/** Creates a logger for a component. */
export function createLogger(component: string, opts: { sink?: Sink; level?: Level; fields?: Record<string, unknown> } = {}): Logger {
  const sink: Sink = opts.sink ?? ((line) => process.stderr.write(line + '\n'));
  const min = ORDER[opts.level ?? minLevel()];
  const base = { component, ...(opts.fields ?? {}) };
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields ?? {})) extra[k] = errorFields(v);
    sink(JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...extra }));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    with: (fields) => createLogger(component, { sink, level: opts.level ?? minLevel(), fields: { ...(opts.fields ?? {}), ...fields } }),
  };
}
