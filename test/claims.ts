// The README's numeric claims that tests hold the code to, in one place (each with a small margin).
import { activePoints } from '../src/runtime/policy.ts';
import type { ModelPackage } from '../src/runtime/manifest.ts';

/**
 * README, "The design in brief": served logits match the packages' PyTorch test vectors with a max abs diff of 3e-6
 * for fp32 policies and 3e-4 through uint8 (or fp16) points. Measured: at most 3.3e-6 and 3.0e-4.
 */
export const LOGIT_TOLERANCE = { fp32: 5e-6, lossy: 5e-4 } as const;

/** The claimed bound for a package: lossy as soon as one active transmission point is not fp32. */
export function logitTolerance(pkg: ModelPackage): number {
  return activePoints(pkg.manifest).some((p) => p.precision !== 'fp32') ? LOGIT_TOLERANCE.lossy : LOGIT_TOLERANCE.fp32;
}
