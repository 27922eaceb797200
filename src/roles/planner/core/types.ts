import type { ActivePoint } from '../../../runtime/policy.ts';

/** One machine the planner may place partitions on. */
export interface NodeSpec {
  name: string;
  /** Sustained compute for the model's convolutions, in GFLOPS. */
  gflops: number;
  /** Access-link bandwidth in Mbit/s. */
  bandwidthMbps: number;
  /** One-way latency of the node's access link in ms. */
  latencyMs: number;
  /** Fixed cost of running one ONNX unit (session call, copies), in ms. */
  perCallOverheadMs: number;
  /**
   * Fixed CPU cost of one request a partition serves on this node, in ms: the service path around the units
   * (its gRPC Run call, image decode, pooling, reply). Absent = 0. The router's: its client-facing handling.
   */
  perRequestOverheadMs?: number;
  /** Fixed CPU cost of one push this node sends or receives (the router: one Run call or reply), in ms. Absent = 0. */
  perMessageOverheadMs?: number;
  /**
   * CPU cost per MB (1e6 bytes) this node sends or receives, in ms at this node's speed: encode/decode,
   * protobuf, gRPC/HTTP2 framing, kernel TCP, merge. Absent = 0.
   */
  cpuMsPerMB?: number;
  /** Memory a node offers to partitions; undefined = not limited. */
  memoryMiB?: number;
  labels: Record<string, string>;
}

/** Where the router runs: on one of the nodes, or on its own machine with its own link. */
export type RouterSpec =
  | { kind: 'node'; node: string }
  | { kind: 'own'; gflops: number; bandwidthMbps: number; latencyMs: number; perCallOverheadMs: number } & ServiceCosts;

/** The service-path costs of a machine (a node or the router's own machine); each absent one counts 0. */
export type ServiceCosts = Pick<NodeSpec, 'perRequestOverheadMs' | 'perMessageOverheadMs' | 'cpuMsPerMB'>;

export interface Cluster {
  nodes: NodeSpec[];
  /** One collision domain (a Wi-Fi access point): every transfer between machines takes turns on it. */
  sharedMedium: boolean;
  /**
   * Without a shared medium: each machine's access link carries one transfer at a time (a node's uplink for what it
   * sends, the router's downlink for the features it gathers), e.g. the router's P image sends take turns. Absent =
   * false: concurrent transfers do not slow each other.
   */
  linkContention?: boolean;
  /** Framing bytes each message adds on the wire (HTTP/2 headers and frames, gRPC prefix, TCP/IP). Absent = 0. */
  messageOverheadBytes?: number;
  router: RouterSpec;
}

export type Precision = 'fp32' | 'fp16' | 'uint8';

/** One transmission point of a package with a non-zero shift (the runtime's ActivePoint: `k` channels sent of
 * `channels`), with its per-tensor size worked out. */
export interface Exchange extends ActivePoint {
  /** Bytes of one partition's tensor for one image, scale included. */
  bytes: number;
}

/** What the latency model needs to know about one model package. */
export interface PackageModel {
  name: string;
  path: string;
  partitions: number;
  policyId: string;
  accuracy: number;
  stemFlops: number;
  /** FLOPs of each block of one partition, in block order. */
  blockFlops: number[];
  /**
   * onnxruntime calls that start at each unit (stem first, then the blocks): 1 where a session starts, 0 inside a
   * fused run of units. Absent: one call per unit.
   */
  unitCalls?: number[];
  headFlops: number;
  exchanges: Exchange[];
  /** Image bytes the router sends to each partition. */
  imageBytes: number;
  /** Pooled-feature bytes each partition returns to the router. */
  featureBytes: number;
  /** Parameter bytes of one partition's units. */
  paramBytes: number;
  exchangedBytes: number;
}

/** assignment[i] = index into cluster.nodes of partition i's node. */
export type Assignment = number[];

export interface PathStep {
  kind: 'compute' | 'transfer';
  label: string;
  startMs: number;
  endMs: number;
}

export interface Prediction {
  latencyMs: number;
  /** Compute on the critical path (ONNX units, head and the service CPU costs below). */
  computeMs: number;
  /** The part of computeMs that is service CPU (per-request, per-message and per-MB costs), not ONNX. */
  serviceMs: number;
  /** Transfers on the critical path (serialisation + link latency). */
  transferMs: number;
  exchangedBytes: number;
  criticalPath: PathStep[];
}

export type Objective =
  | { mode: 'latency'; accuracyFloor?: number }
  | { mode: 'slo'; sloMs: number };

export interface Candidate {
  pkg: PackageModel;
  assignment: Assignment;
  prediction: Prediction;
}
