// A bounded, time-windowed series of samples: what partitions and the router keep of their recent requests for
// the planner's live calibration (Describe, RouterStats.Live). Bounded in count, so memory stays flat at any load.

export interface Sample {
  at: number;
  values: readonly number[];
}

export class WindowSeries {
  private readonly items: Sample[] = [];
  constructor(private readonly cap: number) {}

  add(at: number, ...values: number[]): void {
    this.items.push({ at, values });
    if (this.items.length > this.cap) this.items.shift();
  }

  since(t: number): Sample[] {
    return this.items.filter((s) => s.at >= t);
  }
}
