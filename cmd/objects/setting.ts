import * as E from 'fp-ts/Either';
import { CommandError, UsageError, type Command, type Invocation } from '../../api/cli/command.ts';
import { API_VERSION } from '../../api/codecs/meta.ts';
import { isStoreError } from '../../api/store/errors.ts';
import { isSettingName, parseSettingValue, SETTINGS, type SettingName } from '../../api/settings.ts';
import { CONNECT_FLAGS, storeFor } from '../../api/cli/connect.ts';
import { OUTPUT_FLAG, outputFormat, print } from './output.ts';

interface SettingView {
  name: string;
  value: string;
  default: string;
  description: string;
}

async function views(inv: Invocation): Promise<SettingView[]> {
  const store = await storeFor(inv);
  const stored = new Map((await store.list('Setting')).items.map((s) => [s.metadata.name, s.value]));
  return (Object.keys(SETTINGS) as SettingName[]).map((n) => ({ name: n, value: stored.get(n) ?? String(SETTINGS[n].default), default: String(SETTINGS[n].default), description: SETTINGS[n].description }));
}

function settingName(inv: Invocation): SettingName {
  const n = inv.positionals[0];
  if (n === undefined) throw new UsageError('needs a setting NAME');
  if (!isSettingName(n)) throw new UsageError(`unknown setting "${n}" (known: ${Object.keys(SETTINGS).join(', ')})`);
  return n;
}

async function setValue(inv: Invocation, n: SettingName, value: string): Promise<void> {
  const check = parseSettingValue(n, value);
  if (E.isLeft(check)) throw new UsageError(`${n}: ${check.left}`);
  const store = await storeFor(inv);
  try {
    const cur = await store.get('Setting', n);
    await store.update('Setting', { ...cur, value });
  } catch (e) {
    if (!isStoreError(e, 'NotFound')) throw e;
    await store.create('Setting', { apiVersion: API_VERSION, kind: 'Setting', metadata: { name: n }, value } as never);
  }
  inv.stdout.write(`setting.shorthorn.io/${n} set to ${value}\n`);
}

const HEADER = ['NAME', 'VALUE', 'DEFAULT', 'DESCRIPTION'];
const row = (s: SettingView) => [s.name, s.value, s.default, s.description];

/** `shorthorn setting …`: list, get, set (create), delete (back to the default). */
export const settingCommands: Command[] = [
  { name: 'list', summary: 'List every setting with its value and default', flags: { ...CONNECT_FLAGS, ...OUTPUT_FLAG }, run: async (inv) => print(inv, outputFormat(inv), await views(inv), HEADER, row, 'SettingList') },
  {
    name: 'get',
    summary: 'Show one setting',
    usage: 'NAME [flags]',
    flags: { ...CONNECT_FLAGS, ...OUTPUT_FLAG },
    run: async (inv) => {
      const n = settingName(inv);
      const v = (await views(inv)).find((s) => s.name === n) as SettingView;
      print(inv, outputFormat(inv), v, HEADER, row);
    },
  },
  {
    name: 'set',
    summary: 'Set a setting (typed and range-checked)',
    usage: 'NAME VALUE [flags]',
    flags: { ...CONNECT_FLAGS },
    run: async (inv) => {
      const n = settingName(inv);
      const value = inv.positionals[1];
      if (value === undefined) throw new UsageError(`setting set ${n} needs a VALUE`);
      await setValue(inv, n, value);
    },
  },
  {
    name: 'create',
    summary: 'Create a setting object (same as set)',
    usage: 'NAME --value VALUE [flags]',
    flags: { value: { type: 'string', help: 'the value', placeholder: 'VALUE' }, ...CONNECT_FLAGS },
    run: async (inv) => {
      const n = settingName(inv);
      if (typeof inv.values.value !== 'string') throw new UsageError('--value is required');
      await setValue(inv, n, inv.values.value);
    },
  },
  {
    name: 'delete',
    summary: 'Delete a setting object: the default applies again',
    usage: 'NAME [flags]',
    flags: { ...CONNECT_FLAGS },
    run: async (inv) => {
      const n = settingName(inv);
      try {
        await (await storeFor(inv)).delete('Setting', n);
      } catch (e) {
        if (isStoreError(e, 'NotFound')) throw new CommandError(`setting ${n} is not set (its default ${String(SETTINGS[n].default)} applies)`);
        throw e;
      }
      inv.stdout.write(`setting.shorthorn.io/${n} deleted (default ${String(SETTINGS[n].default)} applies)\n`);
    },
  },
];
