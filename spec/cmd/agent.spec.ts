import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { UsageError } from '../../api/cli/command.ts';
import { parseDiskFlags, parsePortRange } from '../../cmd/agent.ts';

describe('shorthorn agent flags', () => {
  const disks: Array<{ args: string[]; want?: Array<{ name: string; path: string }>; error?: RegExp }> = [
    { args: ['/a', '/b'], want: [{ name: 'disk1', path: '/a' }, { name: 'disk2', path: '/b' }] },
    { args: ['fast=/ssd', 'slow=/hdd'], want: [{ name: 'fast', path: '/ssd' }, { name: 'slow', path: '/hdd' }] },
    { args: ['rel/dir'], want: [{ name: 'disk1', path: resolve('rel/dir') }] },
    { args: ['x=/a', 'x=/b'], error: /given twice/ },
    { args: ['Bad_Name=/a'], error: /lower-case/ },
    { args: ['x='], error: /expected PATH or NAME=PATH/ },
  ];
  for (const c of disks) {
    it(`--disk ${c.args.join(' ')} ${c.error ? 'is refused' : 'parses'}`, () => {
      if (c.error) assert.throws(() => parseDiskFlags(c.args), (e: unknown) => e instanceof UsageError && (c.error as RegExp).test(e.message));
      else assert.deepEqual(parseDiskFlags(c.args), c.want);
    });
  }
  const ranges: Array<{ v: string; want?: [number, number] }> = [{ v: '10000-10999', want: [10000, 10999] }, { v: '5-5', want: [5, 5] }, { v: '9-3' }, { v: '0-10' }, { v: '1-70000' }, { v: 'a-b' }];
  for (const c of ranges) {
    it(`--port-range ${c.v} ${c.want ? 'parses' : 'is refused'}`, () => {
      if (c.want) assert.deepEqual(parsePortRange(c.v), c.want);
      else assert.throws(() => parsePortRange(c.v), UsageError);
    });
  }
});
