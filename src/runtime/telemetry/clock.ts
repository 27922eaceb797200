import { performance } from 'node:perf_hooks';

/**
 * Wall-clock milliseconds with sub-millisecond resolution. The SDK starts spans at Date.now() (whole ms), which
 * scrambles the order of a partition's sub-millisecond units in a waterfall; every span here is started and ended
 * with this clock instead (both ends, or the SDK would end it at Date.now()).
 */
export const hrNow = (): number => performance.timeOrigin + performance.now();
