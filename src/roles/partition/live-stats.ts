// What a partition measures while it serves, kept for a short window so that Describe can report it and the
// planner can calibrate its model on the live cluster (src/roles/planner/core/calibrate.ts).
import { median } from '../../runtime/stats.ts';
import { WindowSeries } from '../../runtime/live-window.ts';

export interface PushSeriesSnapshot {
  peer: number;
  count: number;
  bytesMean: number;
  transferMsP50: number;
}

export interface LiveSnapshot {
  windowS: number;
  runs: number;
  runMsP50: number;
  waitMsP50: number;
  computeMsP50: number;
  pushes: PushSeriesSnapshot[];
}

export class LiveStats {
  private readonly runs: WindowSeries;
  private readonly pushes = new Map<number, WindowSeries>();

  /** windowMs: how far back a snapshot looks; cap: samples kept per series (bounds memory at any load). */
  constructor(private readonly windowMs = 10_000, private readonly cap = 400, private readonly now: () => number = Date.now) {
    this.runs = new WindowSeries(cap);
  }

  /** One batch-1 request: run entry to features, and how much of it was spent waiting for peers' slices. */
  recordRun(runMs: number, waitMs: number): void {
    this.runs.add(this.now(), runMs, waitMs);
  }

  /** One acknowledged push to `peer`. */
  recordPush(peer: number, bytes: number, transferMs: number): void {
    let s = this.pushes.get(peer);
    if (!s) this.pushes.set(peer, (s = new WindowSeries(this.cap)));
    s.add(this.now(), bytes, transferMs);
  }

  snapshot(): LiveSnapshot {
    const from = this.now() - this.windowMs;
    const runs = this.runs.since(from);
    const pushes: PushSeriesSnapshot[] = [];
    for (const [peer, series] of [...this.pushes].sort((x, y) => x[0] - y[0])) {
      const s = series.since(from);
      if (s.length === 0) continue;
      pushes.push({ peer, count: s.length, bytesMean: s.reduce((t, x) => t + x.values[0], 0) / s.length,
        transferMsP50: median(s.map((x) => x.values[1])) });
    }
    const nz = (x: number) => (Number.isNaN(x) ? 0 : x);
    return {
      windowS: this.windowMs / 1000, runs: runs.length,
      runMsP50: nz(median(runs.map((r) => r.values[0]))), waitMsP50: nz(median(runs.map((r) => r.values[1]))),
      computeMsP50: nz(median(runs.map((r) => r.values[0] - r.values[1]))), pushes,
    };
  }
}
