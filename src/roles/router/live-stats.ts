// What the router measures of the plan it serves (batch-1 requests, recent window), for RouterStats.Live.
import { WindowSeries } from '../../runtime/live-window.ts';
import { median } from '../../runtime/stats.ts';

export interface RouterLiveSnapshot {
  windowS: number;
  planHash: string;
  requests: number;
  requestMsP50: number;
  partitions: { partition: number; count: number; rttMsP50: number; runMsP50: number; overheadMsP50: number }[];
  /** Dynamic batching since the pipeline started: batches dispatched and the requests they carried (absent: off). */
  batches?: number;
  batchedRequests?: number;
}

export class RouterLiveStats {
  private readonly requests: WindowSeries;
  private readonly calls: WindowSeries[];

  constructor(partitions: number, private readonly planHash = '', private readonly windowMs = 10_000, cap = 400,
    private readonly now: () => number = Date.now) {
    this.requests = new WindowSeries(cap);
    this.calls = Array.from({ length: partitions }, () => new WindowSeries(cap));
  }

  recordRequest(ms: number): void {
    this.requests.add(this.now(), ms);
  }

  recordCall(partition: number, rttMs: number, runMs: number): void {
    this.calls[partition]?.add(this.now(), rttMs, runMs);
  }

  snapshot(): RouterLiveSnapshot {
    const from = this.now() - this.windowMs;
    const nz = (x: number) => (Number.isNaN(x) ? 0 : x);
    const req = this.requests.since(from);
    return {
      windowS: this.windowMs / 1000, planHash: this.planHash, requests: req.length, requestMsP50: nz(median(req.map((r) => r.values[0]))),
      partitions: this.calls.map((series, partition) => {
        const s = series.since(from);
        return { partition, count: s.length, rttMsP50: nz(median(s.map((x) => x.values[0]))), runMsP50: nz(median(s.map((x) => x.values[1]))),
          overheadMsP50: nz(median(s.map((x) => x.values[0] - x.values[1]))) };
      }),
    };
  }
}
