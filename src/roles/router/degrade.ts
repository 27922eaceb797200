/**
 * The router's answer from the partitions it has (DESIGN 1, branch dropout): the pooled features of missing
 * partitions are zero-filled and the present ones multiplied by P / present, exactly as the supernet's head was
 * trained. Shared by the pipeline and src/tools/bench/degradation.ts so the benchmark measures what is served.
 */
export function assembleFeatures(parts: readonly (Float32Array | null)[], n: number, width: number):
  { features: Float32Array; missing: number[] } {
  const P = parts.length;
  const present = parts.filter((p) => p !== null).length;
  if (present === 0) throw new Error('assembleFeatures: no partition present');
  const features = new Float32Array(n * width * P);
  const scale = P / present;
  parts.forEach((r, p) => {
    if (!r) return;
    for (let i = 0; i < n; i++) {
      for (let w = 0; w < width; w++) {
        features[i * width * P + p * width + w] = present === P ? r[i * width + w] : Math.fround(r[i * width + w] * scale);
      }
    }
  });
  return { features, missing: parts.flatMap((r, p) => (r ? [] : [p])) };
}

/** OIP's edgesplit_missing_partitions parameter: "2", "1,3". */
export const missingParameter = (missing: readonly number[]): string => missing.join(',');

/**
 * The deadline the router gives each partition call: a little before the client's, so a hung partition fails
 * its call (and the answer degrades) while there is still time to run the head and reply.
 */
export function partitionDeadline(nowMs: number, deadlineMs: number, fraction = 0.1): number {
  const budget = Math.max(0, deadlineMs - nowMs);
  return deadlineMs - Math.min(budget / 4, Math.max(30, fraction * budget));
}
