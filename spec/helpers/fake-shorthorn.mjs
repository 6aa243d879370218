// A FAKE `shorthorn` for supervisor tests: it imitates the command lines and the observable
// behaviour of `shorthorn replica serve` and `shorthorn engine serve` (the ready JSON line, the
// ports, the engine's control API, replicas turning ERR when their connection drops) and stores
// no data. Plain JavaScript so that it starts fast. The end-to-end test uses the real commands.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, createServer as createTcpServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const [group, verb, ...rest] = process.argv.slice(2);
const hostPort = (v) => {
  const i = v.lastIndexOf(':');
  return { host: v.slice(0, i), port: Number(v.slice(i + 1)) };
};
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');
process.on('SIGTERM', () => process.exit(0));

if (group === 'replica' && verb === 'serve') {
  const { values } = parseArgs({ args: rest, options: { dir: { type: 'string' }, size: { type: 'string' }, listen: { type: 'string' }, 'secret-file': { type: 'string' }, 'allow-grow': { type: 'boolean' } } });
  if (values.dir.includes('fail-start')) {
    // Imitates a replica that refuses its directory: one JSON log line on stderr, exit 1.
    process.stderr.write(JSON.stringify({ level: 'error', msg: `cannot open replica store in ${values.dir}: metadata is corrupt` }) + '\n');
    process.exit(1);
  }
  mkdirSync(values.dir, { recursive: true });
  writeFileSync(join(values.dir, 'fake-replica.json'), JSON.stringify({ size: values.size }));
  const { host, port } = hostPort(values.listen);
  const srv = createTcpServer((s) => s.on('error', () => undefined));
  srv.listen(port, host, () => print({ listening: `${host}:${srv.address().port}` }));
} else if (group === 'engine' && verb === 'serve') {
  const { values } = parseArgs({
    args: rest,
    options: { volume: { type: 'string' }, size: { type: 'string' }, replica: { type: 'string', multiple: true }, 'secret-file': { type: 'string' }, control: { type: 'string' }, frontend: { type: 'string' }, listen: { type: 'string' } },
  });
  const replicas = new Map();
  let sizeBytes = Number(values.size);
  const add = (address, mode) => {
    const r = { address, mode, socket: undefined };
    replicas.set(address, r);
    const { host, port } = hostPort(address);
    const s = connect(port, host, () => {
      if (replicas.get(address) === r) r.mode = 'RW';
    });
    r.socket = s;
    const fail = () => {
      if (replicas.get(address) === r) r.mode = 'ERR';
    };
    s.on('error', fail);
    s.on('close', fail);
  };
  for (const a of values.replica ?? []) add(a, 'RW');
  const ctl = hostPort(values.control);
  const api = createServer((req, res) => {
    const send = (code, body) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/v1/status') {
      return send(200, { volume: values.volume, sizeBytes, replicas: [...replicas.values()].map((r) => ({ address: r.address, mode: r.mode, revision: '1', ...(r.mode === 'ERR' ? { cause: `replica ${r.address}: connection closed` } : {}) })) });
    }
    if (req.method === 'POST' && req.url === '/v1/replicas') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const { address } = JSON.parse(body);
        if (replicas.has(address) && replicas.get(address).mode !== 'ERR') return send(409, { error: `replica ${address} is already in the engine` });
        add(address, 'WO');
        send(200, { address, mode: 'WO' });
      });
      return;
    }
    if (req.method === 'POST' && req.url === '/v1/expand') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const want = JSON.parse(body).sizeBytes;
        if (want < sizeBytes) return send(422, { error: `volume ${values.volume}: cannot shrink from ${sizeBytes} to ${want} bytes` });
        sizeBytes = want;
        send(200, { sizeBytes });
      });
      return;
    }
    const m = /^\/v1\/replicas\/(.+)$/.exec(req.url ?? '');
    if (req.method === 'DELETE' && m) {
      const a = decodeURIComponent(m[1]);
      const r = replicas.get(a);
      if (!r) return send(404, { error: `no replica ${a}` });
      replicas.delete(a);
      r.socket?.destroy();
      return send(200, {});
    }
    send(404, { error: 'not found' });
  });
  const iscsi = hostPort(values.listen);
  const portal = createTcpServer((s) => s.on('error', () => undefined));
  portal.listen(iscsi.port, iscsi.host, () => {
    api.listen(ctl.port, ctl.host, () => {
      print({ control: `${ctl.host}:${api.address().port}`, portal: `${iscsi.host}:${portal.address().port}`, iqn: `iqn.2026-11.io.shorthorn:${values.volume}` });
    });
  });
} else {
  process.stderr.write(`fake-shorthorn: unknown command ${group} ${verb}\n`);
  process.exit(2);
}
