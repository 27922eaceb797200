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
  merged: 'edgesplit.merged',
  degraded: 'edgesplit.degraded',
  exchangedBytes: 'edgesplit.exchanged_bytes',
  missingPartitions: 'edgesplit.missing_partitions',
  predictedLatencyMs: 'edgesplit.predicted_latency_ms',
  partitions: 'edgesplit.partitions',
  policyId: 'edgesplit.policy_id',
} as const;

export const SPAN = {
  unit: (name: string) => `compute ${name}`,
  wait: 'edgesplit.wait',
  head: 'edgesplit.head',
  plan: 'edgesplit.plan',
  apply: 'edgesplit.apply',
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
