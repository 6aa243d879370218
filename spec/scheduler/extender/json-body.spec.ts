import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/Either';
import express from 'express';
import fc from 'fast-check';
import request from 'supertest';
import { nodeNamesJson, parseJsonBody, parseWithNodeNames, utf8BodyText } from '../../../scheduler/extender/json-body.ts';

/** What body-parser's strict json() makes of a text (or of bytes): the value, or its error message. */
function viaBodyParser(): (text: string | Buffer) => Promise<{ value?: unknown; error?: string }> {
  const app = express();
  app.use(express.json({ type: () => true, strict: true, limit: 1024 * 1024 }));
  app.post('/', (req, res) => {
    res.json({ value: req.body });
  });
  app.use((err: { message: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(400).json({ error: err.message });
  });
  return async (text) =>
    (await request(app).post('/').set('content-type', 'application/json').serialize((b: unknown) => b as string).send(text)).body as { value?: unknown; error?: string };
}

const mine = (text: string): { value?: unknown; error?: string } => {
  const r = parseJsonBody(text);
  return E.isRight(r) ? { value: r.right } : { error: r.left.message };
};

const names = Array.from({ length: 5 }, (_, i) => `node-${i}`);
const go = (o: object) => JSON.stringify(o);

describe('parseJsonBody: body-parser strict JSON, with a shortcut for NodeNames', () => {
  const shortcut: { name: string; text: string; applies: boolean }[] = [
    { name: 'a compact body as kube-scheduler (Go) writes it', text: go({ Pod: { metadata: { name: 'p' } }, Nodes: null, NodeNames: names }), applies: true },
    { name: 'NodeNames first, the Pod after it', text: go({ NodeNames: names, Pod: { metadata: { name: 'p' } } }), applies: true },
    { name: 'an empty NodeNames', text: go({ Pod: {}, NodeNames: [] }), applies: true },
    { name: '3,000 names (more than the offsets buffer starts with)', text: go({ Pod: {}, NodeNames: Array.from({ length: 3000 }, (_, i) => `worker-${i}`) }), applies: true },
    { name: 'a list of one empty name', text: go({ Pod: {}, NodeNames: [''] }), applies: true },
    { name: 'names with spaces and non-ASCII characters', text: go({ Pod: {}, NodeNames: ['a b', 'nœud-1', '😀'] }), applies: true },
    { name: 'an earlier duplicate key (the last one wins, as in JSON.parse)', text: '{"NodeNames":null,"Pod":{},"NodeNames":["a"]}', applies: true },
    { name: 'whitespace inside the array', text: '{"Pod":{},"NodeNames":["a", "b"]}', applies: false },
    { name: 'pretty-printed', text: JSON.stringify({ Pod: {}, NodeNames: names }, null, 2), applies: false },
    { name: 'an escaped quote in a name', text: go({ Pod: {}, NodeNames: ['a"b', 'c'] }), applies: false },
    { name: 'an escape sequence in a name', text: '{"Pod":{},"NodeNames":["\\u0061"]}', applies: false },
    { name: 'a nested NodeNames only', text: go({ Pod: { x: { NodeNames: ['a'] } }, NodeNames: null }), applies: false },
    { name: 'a later nested NodeNames inside a string value', text: go({ Pod: { a: 'x' }, NodeNames: ['a'], Z: '"NodeNames":["b"]' }), applies: false },
    { name: 'a later duplicate key, escaped', text: '{"Pod":{},"NodeNames":["a"],"\\u004eodeNames":null}', applies: false },
    { name: 'a later duplicate key, plain', text: '{"Pod":{},"NodeNames":["a"],"NodeNames":null}', applies: false },
    { name: 'a later duplicate array', text: '{"Pod":{},"NodeNames":["a"],"NodeNames":["b"]}', applies: false },
    { name: 'the key text inside a string before it', text: go({ Pod: { note: 'see "NodeNames":[' } }), applies: false },
    { name: 'a root array', text: '[{"NodeNames":["a"]}]', applies: false },
    { name: 'a number in the array', text: '{"Pod":{},"NodeNames":["a",1]}', applies: false },
    { name: 'malformed after the array', text: '{"Pod":{},"NodeNames":["a"],}', applies: false },
    { name: 'malformed before the array', text: '{"Pod":{,"NodeNames":["a"]}', applies: false },
    { name: 'an unterminated array', text: '{"Pod":{},"NodeNames":["a","b"', applies: false },
    { name: 'a raw tab inside a name (not JSON)', text: '{"Pod":{},"NodeNames":["a\tb"]}', applies: false },
  ];
  for (const c of shortcut) {
    it(`${c.applies ? 'takes' : 'does not take'} the shortcut for ${c.name}, and answers as body-parser`, async () => {
      const cut = parseWithNodeNames(c.text) as { NodeNames: string[] } | undefined;
      assert.equal(cut !== undefined, c.applies);
      if (cut !== undefined) assert.equal(nodeNamesJson(cut.NodeNames), JSON.stringify(cut.NodeNames));
      assert.deepEqual(mine(c.text), await viaBodyParser()(c.text));
    });
  }

  // A UTF-8 byte order mark never reaches the parser: both readers decode through iconv-lite, which drops it.
  const malformed = ['', '   ', '{"Pod": ', 'null', '"x"', '  5', 'nope', '{"a":1}}', '[1,]', '{"NodeNames":["a"]'];
  for (const text of malformed) {
    it(`answers ${JSON.stringify(text)} with body-parser's value or message`, async () => {
      assert.deepEqual(mine(text), await viaBodyParser()(text));
    });
  }

  const bytes: { name: string; body: Buffer }[] = [
    { name: 'a byte order mark', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(go({ Pod: {}, NodeNames: names }))]) },
    { name: 'two byte order marks', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]), Buffer.from('{}')]) },
    { name: 'an invalid byte inside a name', body: Buffer.concat([Buffer.from('{"Pod":{},"NodeNames":["a'), Buffer.from([0xff]), Buffer.from('b","c"]}')]) },
    { name: 'a truncated multi-byte character inside a name', body: Buffer.concat([Buffer.from('{"Pod":{},"NodeNames":["a'), Buffer.from([0xe2, 0x82]), Buffer.from('"]}')]) },
    { name: 'a truncated multi-byte character at the end', body: Buffer.concat([Buffer.from('{"NodeNames":["a"]}'), Buffer.from([0xe2])]) },
  ];
  for (const c of bytes) {
    it(`decodes ${c.name} as body-parser does`, async () => {
      assert.deepEqual(mine(utf8BodyText(c.body)), await viaBodyParser()(c.body));
    });
  }

  it('decodes random bytes inside a body as body-parser does', async () => {
    const parse = viaBodyParser();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 12 }), fc.uint8Array({ maxLength: 4 }), async (inName, atEnd) => {
        const body = Buffer.concat([Buffer.from('{"Pod":{},"NodeNames":["x'), inName, Buffer.from('","y"]}'), atEnd]);
        assert.deepEqual(mine(utf8BodyText(body)), await parse(body));
      }),
      { numRuns: 150, seed: 20261125 },
    );
  });

  it('gives what JSON.parse gives for random objects with a NodeNames key anywhere', () => {
    const nameArb = fc.oneof(fc.string(), fc.constantFrom('node-00001', 'ip-10-0-1-2.ec2.internal', 'a"b', 'c\\d', '\n'));
    const body = fc.tuple(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 5 }), fc.array(nameArb, { maxLength: 20 }), fc.nat(), fc.boolean()).map(([o, ns, at, nested]) => {
      const entries = Object.entries(o);
      const k = at % (entries.length + 1);
      const withNames = [...entries.slice(0, k), ['NodeNames', ns] as const, ...entries.slice(k)];
      return JSON.stringify(nested ? { Pod: Object.fromEntries(withNames) } : Object.fromEntries(withNames));
    });
    fc.assert(
      fc.property(body, (text) => {
        const got = mine(text);
        assert.deepEqual(got, { value: JSON.parse(text) as unknown });
        // The list's text, sent back by the filter when every node passes, is JSON.stringify's.
        const list = (got.value as { NodeNames?: unknown; Pod?: { NodeNames?: unknown } }).NodeNames;
        if (Array.isArray(list)) assert.equal(nodeNamesJson(list as string[]), JSON.stringify(list));
      }),
      { numRuns: 1000, seed: 20261125 },
    );
  });

  it('answers random texts (often not JSON) with body-parser\'s value or message', async () => {
    const parse = viaBodyParser();
    const text = fc.oneof(fc.string(), fc.json().map((j) => j.slice(0, Math.max(1, j.length - 1))), fc.constantFrom('{"Pod":{},"NodeNames":["a","b"]}').chain((t) => fc.nat({ max: t.length }).map((n) => t.slice(0, n))));
    await fc.assert(
      fc.asyncProperty(text, async (t) => {
        assert.deepEqual(mine(t), await parse(t));
      }),
      { numRuns: 150, seed: 20261125 },
    );
  });
});
