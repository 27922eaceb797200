// Predicted end-to-end latency of one image through a package placed on a cluster.
//
// Assumptions (the "why" of the numbers):
// - A node computes one unit at a time: partitions sharing a node serialise
//   their units on it (ONNX Runtime sessions of one small device compete for
//   the same cores), in the order the units become ready.
// - Unit time = flops / GFLOPS + the node's per-call overhead.
// - A transfer between two machines takes bytes*8 / min(bandwidth of both ends)
//   plus the larger of their link latencies (each node's latency is its access
//   link; the slower end decides, like the narrower end decides bandwidth).
//   Transfers on one machine are free. Without a shared medium, links are
//   switched and full duplex: concurrent transfers do not slow each other,
//   unless the cluster asks for linkContention: then a machine's uplink carries
//   one of its sends at a time and the router's downlink one gathered reply at
//   a time (the router's P image sends take turns). Every message carries the
//   cluster's messageOverheadBytes of framing on the wire.
// - With a shared medium every transfer between machines (image broadcast,
//   exchanges, feature gather) takes turns on it for its serialisation time;
//   the propagation latency overlaps with the next sender's turn.
// - A partition forwards its block output after its own merge (the tensor that
//   feeds its next block), so chained points wait for the earlier merge.
// - The delayed merge itself costs nothing; the block after it waits for
//   max(own block done, peer's tensor arrived).
// - The router sends the uint8 image to every partition, gathers the fp32 pooled
//   features and runs the head: on a node (sharing its compute and link) or on
//   its own machine with its own link.
// - Service CPU (what a real gRPC/JS service spends beyond ONNX; all optional, 0
//   when a spec does not give them), held on the machine's compute like a unit:
//   * per request: each partition pays its node's perRequestOverheadMs once,
//     when its image arrives: the whole service path of its Run call (receive,
//     decode, pooling, reply; measured as such); the router pays its own
//     perRequestOverheadMs once before it fans out (client-facing handling);
//   * per message: every push a partition sends or receives, and every Run
//     call and reply the router sends or receives, costs that machine's
//     perMessageOverheadMs; every message (the image and features included)
//     costs cpuMsPerMB for each MB of it at both ends. A push is encoded
//     on the sender right after the block that produced it, before the sender's
//     next block (the runner encodes synchronously), and decoded on the receiver
//     when it arrives; pushes between partitions on one node still pay both ends
//     (they go through gRPC on loopback), only the wire time is zero.
//   A router placed on a node uses that node's costs.
import { criticalChain, schedule, type Task } from './schedule.ts';
import type { Assignment, Cluster, PackageModel, Prediction, ServiceCosts } from './types.ts';

const ROUTER = -1;

export function predictLatency(pkg: PackageModel, cluster: Cluster, assignment: Assignment): Prediction {
  const P = pkg.partitions;
  if (assignment.length !== P) throw new Error(`assignment has ${assignment.length} entries for ${P} partitions`);
  const { nodes, router } = cluster;
  const routerNode = router.kind === 'node' ? nodes.findIndex((n) => n.name === router.node) : ROUTER;
  if (router.kind === 'node' && routerNode < 0) throw new Error(`router node ${router.node} is not in the cluster`);

  // Resources: one per node index, then the router's own machine, then the medium.
  const routerResource = nodes.length;
  const mediumResource = nodes.length + 1;
  // With linkContention: each machine's uplink (the router's own machine last), then the router's downlink.
  const uplinkBase = nodes.length + 2;
  const routerDownlink = uplinkBase + nodes.length + 1;
  const at = (loc: number) => (loc === ROUTER && routerNode >= 0 ? routerNode : loc);
  const link = (loc: number) => (loc === ROUTER ? (router as Extract<typeof router, { kind: 'own' }>) : nodes[loc]);
  const nameOf = (loc: number) => (loc === ROUTER ? 'router' : nodes[loc].name);

  const tasks: Task[] = [];
  const add = (t: Task) => tasks.push(t) - 1;
  const costs = (loc: number): ServiceCosts => link(at(loc));
  const resourceOf = (loc: number) => (at(loc) === ROUTER ? routerResource : at(loc));
  /** Service CPU on a machine; returns what comes after it waits for (nothing added when it costs 0). */
  const cpu = (loc: number, ms: number, deps: number[], label: string): number[] => {
    if (!(ms > 0)) return deps;
    return [add({ kind: 'compute', service: true, label: `${label}@${nameOf(at(loc))}`, deps,
      resource: resourceOf(loc), occupancyMs: ms, tailMs: 0 })];
  };
  /** CPU of one message at one end; a partition's Run call and reply are in its per-request cost instead. */
  const messageMs = (loc: number, bytes: number, perMessage: boolean) => {
    const c = costs(loc);
    return (perMessage ? c.perMessageOverheadMs ?? 0 : 0) + (bytes / 1e6) * (c.cpuMsPerMB ?? 0);
  };

  /** Adds a transfer and returns what the receiver waits for: the transfer, or the sender's output on one machine. */
  const transfer = (from: number, to: number, bytes: number, deps: number[], label: string): number[] => {
    const a = at(from);
    const b = at(to);
    if (a === b) return deps;
    const la = link(a);
    const lb = link(b);
    const wire = bytes + (cluster.messageOverheadBytes ?? 0);
    const serialiseMs = (wire * 8) / (Math.min(la.bandwidthMbps, lb.bandwidthMbps) * 1000);
    const latencyMs = Math.max(la.latencyMs, lb.latencyMs);
    const linkResource = !cluster.linkContention ? -1
      : to === ROUTER ? routerDownlink : uplinkBase + (a === ROUTER ? nodes.length : a);
    return [add({
      kind: 'transfer', label, deps,
      resource: cluster.sharedMedium ? mediumResource : linkResource,
      occupancyMs: serialiseMs, tailMs: latencyMs,
    })];
  };
  /** A message: encoded on the sender, over the link, decoded on the receiver. */
  const message = (from: number, to: number, bytes: number, deps: number[], label: string, receiverMs = 0): number[] => {
    const sent = cpu(from, messageMs(from, bytes, from === ROUTER || to !== ROUTER), deps, `${label} send`);
    const arrived = transfer(from, to, bytes, sent, label);
    return cpu(to, messageMs(to, bytes, to === ROUTER || from !== ROUTER) + receiverMs, arrived, `${label} receive`);
  };
  const compute = (loc: number, flops: number, deps: number[], label: string, calls = 1): number => {
    const spec = link(loc);
    return add({
      kind: 'compute', label: `${label}@${nameOf(loc)}`, deps,
      resource: loc === ROUTER ? routerResource : loc,
      occupancyMs: flops / (spec.gflops * 1e6) + calls * spec.perCallOverheadMs, tailMs: 0,
    });
  };

  const unitFlops = [pkg.stemFlops, ...pkg.blockFlops];
  const unitName = (u: number) => (u === 0 ? 'stem' : `block${u - 1}`);
  // out[i][u]: what must be done before partition i's unit u output (merged) is usable.
  const out: number[][][] = Array.from({ length: P }, () => []);
  // arrivals[i][u]: the pushes partition i merges into its unit u output.
  const arrivals: number[][][] = Array.from({ length: P }, () => []);
  const accepted = cpu(ROUTER, costs(ROUTER).perRequestOverheadMs ?? 0, [], 'request');
  // Each partition pays its per-request cost when its image has arrived.
  const input = assignment.map((n, i) => message(ROUTER, n, pkg.imageBytes, accepted, `image→p${i}`,
    costs(n).perRequestOverheadMs ?? 0));
  for (let u = 0; u < unitFlops.length; u++) {
    for (let i = 0; i < P; i++) {
      const deps = u === 0 ? input[i] : out[i][u - 1];
      out[i][u] = [compute(assignment[i], unitFlops[u], deps, `p${i} ${unitName(u)}`, pkg.unitCalls?.[u] ?? 1),
        ...(arrivals[i][u] ?? [])];
    }
    // Pushes of the point after this unit's block go out now (before the next block), merged after the next one.
    for (const x of pkg.exchanges) {
      if (x.afterBlock + 1 !== u) continue;
      for (let r = 0; r < P; r++) {
        const s = (((r - x.shift) % P) + P) % P;
        const arrived = message(assignment[s], assignment[r], x.bytes, out[s][u], `p${s}→p${r} point${x.point}`);
        (arrivals[r][u + 1] ??= []).push(...arrived);
      }
    }
  }
  const last = unitFlops.length - 1;
  const gathered = assignment.flatMap((n, i) => message(n, ROUTER, pkg.featureBytes, out[i][last], `features p${i}→router`));
  const head = compute(routerNode, pkg.headFlops, gathered, 'head');

  const result = schedule(tasks, routerDownlink + 1);
  const chain = criticalChain(result, head);
  let computeMs = 0;
  let serviceMs = 0;
  let transferMs = 0;
  const criticalPath = chain.map((t, k) => {
    // A transfer that held the shared medium delays the next one only for its serialisation time.
    const until = k + 1 < chain.length ? result[chain[k + 1]].startMs : result[t].endMs;
    const d = until - result[t].startMs;
    if (tasks[t].kind === 'compute') {
      computeMs += d;
      if (tasks[t].service) serviceMs += d;
    } else transferMs += d;
    return { kind: tasks[t].kind, label: tasks[t].label, startMs: result[t].startMs, endMs: result[t].endMs };
  });
  return { latencyMs: result[head].endMs, computeMs, serviceMs, transferMs, exchangedBytes: pkg.exchangedBytes, criticalPath };
}
