// The partition runner's optional tracing hooks. Each wraps one step and returns fn's result unchanged; the
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

export interface RunObserver {
  /** One ONNX unit (stem or block) on a batch of n. */
  unit<T>(name: string, n: number, fn: () => Promise<T>): Promise<T>;
  /** One push of a slice to a peer; fn rejects when the push fails. */
  push<T>(info: PushInfo, fn: () => Promise<T>): Promise<T>;
  /** Waiting for a peer's slice that had not arrived when the merge was due. */
  wait<T>(info: { point: number; peer: number }, fn: () => Promise<T>): Promise<T>;
}

export const NO_OBSERVER: RunObserver = {
  unit: (_name, _n, fn) => fn(),
  push: (_info, fn) => fn(),
  wait: (_info, fn) => fn(),
};
