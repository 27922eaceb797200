// Span and attribute names in one place: semantic conventions where they exist, `edgesplit.` for our own.

export const TRACER_NAME = 'edgesplit';

export const ATTR = {
  rpcSystem: 'rpc.system',
  rpcService: 'rpc.service',
  rpcMethod: 'rpc.method',
  rpcStatus: 'rpc.grpc.status_code',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  partition: 'edgesplit.partition',
  unit: 'edgesplit.unit',
  batch: 'edgesplit.batch',
  requestId: 'edgesplit.request_id',
  point: 'edgesplit.point',
  peer: 'edgesplit.peer',
  bytes: 'edgesplit.bytes',
  precision: 'edgesplit.precision',
  package: 'edgesplit.package',
  computeMs: 'edgesplit.compute_ms',
  waitMs: 'edgesplit.wait_ms',
  durationMs: 'edgesplit.duration_ms',
  errorMessage: 'exception.message',
  merged: 'edgesplit.merged',
  degraded: 'edgesplit.degraded',
  exchangedBytes: 'edgesplit.exchanged_bytes',
  missingPartitions: 'edgesplit.missing_partitions',
  predictedLatencyMs: 'edgesplit.predicted_latency_ms',
  partitions: 'edgesplit.partitions',
  policyId: 'edgesplit.policy_id',
} as const;

export const SPAN = {
  plan: 'edgesplit.plan',
  apply: 'edgesplit.apply',
} as const;

/**
 * Span events: the steps of one request that were child spans before (a span costs about ten times an event, and a
 * request made about 20 of them; docs/tracing.md, "Overhead").
 */
export const EVENT = {
  /** On the router's request span: one partition's Run answered (or failed), as the router saw it. */
  run: 'edgesplit.run',
  /** On the router's request span: the head ran. */
  head: 'edgesplit.head',
  /** On a partition's Run span: a slice sent to a peer. */
  push: 'edgesplit.push',
  /** On a partition's Run span: a peer's slice merged (or given up on), after waiting for it if it was late. */
  merge: 'edgesplit.merge',
  /** On a partition's Run span: one onnxruntime session run (EDGESPLIT_TRACE_UNITS=true). */
  compute: 'edgesplit.compute',
} as const;

export const METRIC = {
  /** Per unary call, by service/method/status: request latency and requests by status in one instrument. */
  serverDuration: 'rpc.server.call.duration',
  clientDuration: 'rpc.client.call.duration',
  requests: 'edgesplit.requests',
  exchangedBytes: 'edgesplit.exchanged.bytes',
  computeDuration: 'edgesplit.partition.compute.duration',
  degraded: 'edgesplit.degraded_answers',
} as const;
