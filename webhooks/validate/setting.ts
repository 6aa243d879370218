import * as E from 'fp-ts/Either';
import type { Setting } from '../../api/codecs/setting.ts';
import { isSettingName, parseSettingValue, SETTINGS } from '../../api/settings.ts';
import type { Check } from '../context.ts';
import { show, violation } from '../findings.ts';

/** Only known settings, each value typed and range-checked by its definition (api/settings.ts). */
export const checkSetting: Check<Setting> = ({ object }) => {
  const name = object.metadata.name;
  if (!isSettingName(name)) return [violation('setting', 'metadata.name', `unknown setting ${show(name)} (known: ${Object.keys(SETTINGS).join(', ')})`)];
  const r = parseSettingValue(name, object.value);
  return E.isLeft(r) ? [violation('setting', 'value', `${r.left} (setting ${name})`)] : [];
};
