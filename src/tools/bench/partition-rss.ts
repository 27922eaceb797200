/**
 * Peak RSS of partition processes: starts P `servePartition` processes of a package on free loopback ports,
 * drives them as a router would (batch 1 and batch 64 Runs), then reads each process's VmHWM (Linux).
 * Usage: node --import tsx src/tools/bench/partition-rss.ts [package] [requests]  -> one JSON line (build dist/ first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { loadPackage, resolvePackageDir } from '../../runtime/manifest.ts';
import { partitionProto } from '../../runtime/proto.ts';
import { imagesOf, loadSample } from '../../runtime/sample.ts';
import { SERVE_NODE_FLAGS } from '../cli/stack.ts';

const name = process.argv[2] ?? 'fmnist-p4-baseline';
const requests = Number(process.argv[3] ?? 200);
const pkg = loadPackage(resolvePackageDir(name));
const P = pkg.manifest.partitions;

const freePort = (): Promise<number> => new Promise((resolve, reject) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  }).on('error', reject);
});

const kib = (pid: number, field: string): number =>
  Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

/** RSS by mapping (the node binary, onnxruntime, malloc's heap, anonymous: V8's heap and mmapped blocks), MB. */
function rssByMapping(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const file = head[1];
      name = file === '' ? '[anon]' : file.startsWith('[') ? file : file.split('/').pop()!;
    } else if (line.startsWith('Rss:')) {
      out[name] = (out[name] ?? 0) + Number(line.split(/\s+/)[1]) / 1024;
    }
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v >= 0.5).sort((a, b) => b[1] - a[1])
    .map(([k, v]) => [k, Number(v.toFixed(1))]));
}

const ports = await Promise.all(Array.from({ length: P }, freePort));
const peers = ports.map((p) => `127.0.0.1:${p}`).join(',');
const root = new URL('../../../', import.meta.url).pathname;
const children: ChildProcess[] = [];
try {
  const ready = await Promise.all(ports.map((port, index) => {
    // Extra node flags for experiments, e.g. PARTITION_NODE_FLAGS='--max-semi-space-size=2'.
    const flags = (process.env.PARTITION_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    // The compiled CLI with the serving processes' node flags, as `edgesplit up` and the image run a partition.
    const child = spawn(process.execPath, [...SERVE_NODE_FLAGS, ...flags, 'bin/edgesplit.mjs', 'serve', 'partition',
      '--package', name, '--index', String(index), '--port', String(port), '--peers', peers, '--measure', 'false'],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    return new Promise<{ pid: number; rssAfterStartKiB: number; gflops: number }>((resolve, reject) => {
      child.on('exit', (c) => reject(new Error(`partition ${index} exited with ${c}`)));
      createInterface({ input: child.stdout! }).on('line', (l) => {
        const j = JSON.parse(l);
        if (j.msg === 'ready') resolve({ pid: child.pid!, rssAfterStartKiB: kib(child.pid!, 'VmRSS'), gflops: j.gflops });
      });
    });
  }));
  const Partition = partitionProto().edgesplit.v1.Partition;
  const clients = ports.map((p) => new Partition(`127.0.0.1:${p}`, grpc.credentials.createInsecure(),
    { 'grpc.max_receive_message_length': 64 << 20, 'grpc.max_send_message_length': 64 << 20 }));
  const sample = loadSample();
  const runAll = (id: string, n: number, offset: number) => Promise.all(clients.map((c) => new Promise((resolve, reject) => {
    c.Run({ requestId: id, package: name, images: { shape: [n, ...sample.imageShape], precision: 'UINT8', rawUint8: true,
      data: Buffer.from(imagesOf(sample, offset, offset + n)) } },
    { deadline: new Date(Date.now() + 30_000) }, (err, res) => (err ? reject(err) : resolve(res)));
  })));
  const t0 = Date.now();
  for (let i = 0; i < requests; i++) await runAll(`b1-${i}`, 1, i % 1000);
  const batch1Ms = (Date.now() - t0) / requests;
  const hwm = (): number => Math.max(...ready.map((r) => kib(r.pid, 'VmHWM'))) / 1024;
  const phases: Record<string, number> = { afterBatch1: +hwm().toFixed(1) };
  const rssByMappingAfterBatch1 = rssByMapping(ready[0].pid);
  for (let i = 0; i < 5; i++) await runAll(`b64-${i}`, 64, (i * 64) % 900);
  phases.afterSequentialBatch64 = +hwm().toFixed(1);
  // Four concurrent batch-64 requests: the worst case a router with a small fan-in produces.
  await Promise.all([0, 1, 2, 3].map((i) => runAll(`c64-${i}`, 64, i * 64)));
  phases.afterConcurrentBatch64 = +hwm().toFixed(1);
  clients.forEach((c) => c.close());
  const out = ready.map((r, index) => ({ index, pid: r.pid, gflops: Number(r.gflops.toFixed(2)),
    rssAfterStartMB: +(r.rssAfterStartKiB / 1024).toFixed(1), peakRssMB: +(kib(r.pid, 'VmHWM') / 1024).toFixed(1) }));
  console.log(JSON.stringify({ package: name, nodeFlags: process.env.PARTITION_NODE_FLAGS ?? '', mallocArenaMax: process.env.MALLOC_ARENA_MAX ?? null, partitions: P, requests, batch1MsMean: +batch1Ms.toFixed(2),
    maxPeakRssMB: Math.max(...out.map((o) => o.peakRssMB)), peakRssMBByPhase: phases, rssByMappingAfterBatch1, processes: out }));
} finally {
  for (const c of children) c.kill('SIGTERM');
}
