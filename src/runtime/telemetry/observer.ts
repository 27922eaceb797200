// The partition runner's optional tracing hooks. Each wraps or reports one step and never changes its result; the
// no-op one below is what the runner uses when it was given none.

export interface PushInfo {
  point: number;
  /** The partition the slice goes to. */
  peer: number;
  /** Wire bytes (data + uint8 scales), as the manifest's exchangedBytes counts them. */
  bytes: number;
  precision: string;
  n: number;
}

export interface MergeInfo {
  point: number;
  /** The partition the slice came from. */
  peer: number;
  /** Wire bytes received; 0 when the slice never came. */
  bytes: number;
  /** False when the partition went on without the slice (peer missing, late or dead). */
  merged: boolean;
  /** Time spent waiting for a slice that had not arrived when the merge was due (0 when it was there). */
  waitMs: number;
}

export interface RunObserver {
  /** One onnxruntime session run (a unit, or a fused run of units) on a batch of n. */
  unit<T>(name: string, n: number, fn: () => Promise<T>): Promise<T>;
  /** One push of a slice to a peer; fn rejects when the push fails. */
  push<T>(info: PushInfo, fn: () => Promise<T>): Promise<T>;
  /** A peer's slice merged, or given up on, at an exchange point. */
  merge(info: MergeInfo): void;
}

export const NO_OBSERVER: RunObserver = {
  unit: (_name, _n, fn) => fn(),
  push: (_info, fn) => fn(),
  merge: () => {},
};
