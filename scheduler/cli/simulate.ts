import { readFile } from 'node:fs/promises';
import * as E from 'fp-ts/Either';
import { CommandError, requireFlag, UsageError, type Invocation } from '../../api/cli/command.ts';
import { formatInputError, type InputError } from '../../api/decode.ts';
import { decodeSimulateInput, formatSimulateOutput, simulate } from '../simulate.ts';

/** The output format flag: text (default) or json. */
export function outputFormat(inv: Invocation): 'text' | 'json' {
  const o = inv.values.output ?? 'text';
  if (o !== 'text' && o !== 'json') throw new UsageError(`-o/--output: expected text or json, got "${String(o)}"`);
  return o;
}

/** The decode problems on one line, with long codec names (whole object shapes) cut off. */
function briefly(e: InputError): string {
  return formatInputError({ ...e, problems: e.problems.map((p) => ({ path: p.path, message: p.message.length > 100 ? p.message.replace(/ \(.*\)$/s, '') : p.message })) });
}

/** `shorthorn placement simulate --input FILE [-o json]`: places every volume of the file, offline. */
export async function runSimulate(inv: Invocation): Promise<number> {
  const file = requireFlag(inv, 'input');
  const format = outputFormat(inv);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new CommandError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CommandError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  const decoded = decodeSimulateInput(raw);
  if (E.isLeft(decoded)) throw new CommandError(`${file}: ${briefly(decoded.left)}`);
  const out = simulate(decoded.right.input, decoded.right.settings);
  inv.stdout.write((format === 'json' ? JSON.stringify(out, null, 2) : formatSimulateOutput(out)) + '\n');
  return 0;
}
