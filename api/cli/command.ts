import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * The `shorthorn` command framework. Each part of Shorthorn exports its commands (a tree of
 * `Command`s) from its index; cmd/main.ts composes them. Exit codes: 0 ok, 1 failure, 2 usage error,
 * with one clear line on stderr.
 */

/** Flag definitions, as node:util parseArgs takes them, plus a help line each. */
export type Flags = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string; default?: string | boolean | string[]; help: string; placeholder?: string }>;

/** The parsed invocation handed to a command. */
export interface Invocation {
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Aborted on SIGINT/SIGTERM: long-running commands stop when it fires. */
  readonly signal: AbortSignal;
}

/** A leaf command runs; a group has subcommands. */
export type Command =
  | { readonly name: string; readonly summary: string; readonly usage?: string; readonly flags?: Flags; readonly run: (inv: Invocation) => Promise<number | void> }
  | { readonly name: string; readonly summary: string; readonly subcommands: readonly Command[] };

/** A usage error: bad flags or arguments. Exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'EUSAGE';
}

/** A failure with a message meant for the user, printed as one line. Exit code 1. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  readonly code = 'ECOMMAND';
}

function helpOf(path: string, cmd: Command): string {
  if ('subcommands' in cmd) {
    const w = Math.max(...cmd.subcommands.map((c) => c.name.length));
    return [`${cmd.summary}`, '', `Usage: ${path} <command> [flags]`, '', 'Commands:', ...cmd.subcommands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`), '', `Run '${path} <command> --help' for more.`].join('\n');
  }
  const flags = Object.entries(cmd.flags ?? {});
  const left = flags.map(([n, f]) => `  ${f.short ? `-${f.short}, ` : ''}--${n}${f.type === 'string' ? ` ${f.placeholder ?? 'VALUE'}` : ''}`);
  const w = Math.max(0, ...left.map((l) => l.length));
  return [
    cmd.summary,
    '',
    `Usage: ${path}${cmd.usage ? ` ${cmd.usage}` : flags.length > 0 ? ' [flags]' : ''}`,
    ...(flags.length > 0 ? ['', 'Flags:', ...flags.map(([, f], i) => `${(left[i] as string).padEnd(w)}  ${f.help}${f.default !== undefined && f.default !== false ? ` (default ${JSON.stringify(f.default)})` : ''}`)] : []),
    `  ${'-h, --help'.padEnd(w - 2)}  show this help`,
  ].join('\n');
}

/** Runs a command tree against argv; returns the exit code. Never throws. */
export async function runCommand(root: Command, argv: readonly string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; signal: AbortSignal }, path = root.name): Promise<number> {
  try {
    if ('subcommands' in root) {
      const [first, ...rest] = argv;
      if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
        (first === undefined ? io.stderr : io.stdout).write(helpOf(path, root) + '\n');
        return first === undefined ? 2 : 0;
      }
      const sub = root.subcommands.find((c) => c.name === first);
      if (sub === undefined) throw new UsageError(`unknown command "${first}" for "${path}" (commands: ${root.subcommands.map((c) => c.name).join(', ')})`);
      return await runCommand(sub, rest, io, `${path} ${sub.name}`);
    }
    if (argv.includes('--help') || argv.includes('-h')) {
      io.stdout.write(helpOf(path, root) + '\n');
      return 0;
    }
    const options: ParseArgsConfig['options'] = {};
    for (const [n, f] of Object.entries(root.flags ?? {})) {
      options[n] = { type: f.type, ...(f.multiple ? { multiple: true } : {}), ...(f.short ? { short: f.short } : {}), ...(f.default !== undefined ? { default: f.default } : {}) } as never;
    }
    // A string flag followed by a negative number (`--size -1`) takes it as its value, so the
    // flag's own check can say what is wrong with it.
    const args: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i] as string;
      const next = argv[i + 1];
      const flag = a.startsWith('--') ? root.flags?.[a.slice(2)] : undefined;
      if (flag?.type === 'string' && next !== undefined && /^-[\d.]/.test(next)) {
        args.push(`${a}=${next}`);
        i++;
      } else args.push(a);
    }
    let parsed;
    try {
      parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    } catch (e) {
      throw new UsageError((e as Error).message.split('\n')[0]?.replace(/\. To specify a positional argument.*$/, '') ?? 'bad flags');
    }
    const code = await root.run({ values: parsed.values as Invocation['values'], positionals: parsed.positionals, ...io });
    return code ?? 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`${path}: ${e.message}\n`);
      return 2;
    }
    // One clear line: the first line of the message, nothing of a stack.
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    io.stderr.write(`${path}: ${msg}\n`);
    return 1;
  }
}

/** A required string flag, or a UsageError naming it. */
export function requireFlag(inv: Invocation, name: string): string {
  const v = inv.values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

/** Parses HOST:PORT (port 0 = any free port). */
export function parseHostPort(flag: string, v: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--${flag}: expected HOST:PORT, got "${v}"`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}
