// Small synthetic packages with round numbers, so expected latencies can be worked out by hand.
import type { PackageModel } from '../../src/roles/planner/core/types.ts';

export function syntheticPackage(over: Partial<PackageModel> & { partitions: number }): PackageModel {
  const base: PackageModel = {
    name: `p${over.partitions}`, path: `p${over.partitions}`, partitions: over.partitions, policyId: 'none', accuracy: 0.9,
    // 1e6 FLOPs = 1 ms at 1 GFLOPS.
    stemFlops: 1e6, blockFlops: [2e6, 2e6, 2e6], headFlops: 1e6,
    exchanges: [], imageBytes: 125, featureBytes: 250, paramBytes: 0, exchangedBytes: 0,
  };
  const pkg = { ...base, ...over };
  pkg.exchangedBytes = pkg.exchanges.reduce((s, x) => s + pkg.partitions * x.bytes, 0);
  return pkg;
}

/** One exchange after block 0 with shift 1, 1250 bytes per tensor (10 ms at 1 Mbit/s). */
export const EXCHANGE_AFTER_BLOCK0 = {
  point: 0, afterBlock: 0, shift: 1, fraction: 1, precision: 'fp32' as const, k: 1, channels: 1, height: 1, width: 1, bytes: 1250,
};
