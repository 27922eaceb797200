/** A clock that moves only when told (unit tests of time-bounded state). */
export class FakeClock {
  constructor(private t = 1_000_000) {}

  now = (): number => this.t;

  advance(ms: number): void {
    this.t += ms;
  }
}
