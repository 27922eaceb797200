export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures (calls or health probes) that open the circuit. */
  failureThreshold: number;
}

/**
 * One partition's circuit. Closed: calls go through. Open (after `failureThreshold` consecutive failures): the
 * router does not call it and tells the others not to wait for its pushes, so a dead partition costs no request a
 * deadline. A SERVING health probe moves it to half-open: one request is the trial; its success closes the
 * circuit, its failure opens it again. Pure: the health monitor and the pipeline drive it.
 */
export class CircuitBreaker {
  private s: BreakerState = 'closed';
  private failures = 0;
  private trial = false;
  private opened = 0;

  constructor(private readonly o: BreakerOptions) {}

  get state(): BreakerState {
    return this.s;
  }

  /** Times the circuit opened (for tests and Describe-like stats). */
  get openings(): number {
    return this.opened;
  }

  /** true: call the partition now (in half-open state this takes the single trial slot). */
  tryAcquire(): boolean {
    if (this.s === 'closed') return true;
    if (this.s === 'half-open' && !this.trial) {
      this.trial = true;
      return true;
    }
    return false;
  }

  /** Gives back a trial slot taken by a request that ended without calling (client cancel, overload). */
  release(): void {
    this.trial = false;
  }

  onSuccess(): void {
    this.failures = 0;
    this.trial = false;
    this.s = 'closed';
  }

  onFailure(): void {
    this.trial = false;
    if (this.s === 'half-open') return this.open();
    this.failures++;
    if (this.s === 'closed' && this.failures >= this.o.failureThreshold) this.open();
  }

  /** A health probe's answer: SERVING re-admits an open partition for a trial; anything else is a failure. */
  onProbe(serving: boolean): void {
    if (!serving) return this.onFailure();
    // A SERVING probe does not clear the failures of a closed circuit: only a successful call proves Run works.
    if (this.s === 'open') {
      this.s = 'half-open';
      this.trial = false;
    }
  }

  private open(): void {
    if (this.s !== 'open') this.opened++;
    this.s = 'open';
    this.failures = 0;
  }
}

/** The breakers of all P partitions, in partition order. */
export class PartitionBreakers {
  readonly each: CircuitBreaker[];

  constructor(partitions: number, o: BreakerOptions) {
    this.each = Array.from({ length: partitions }, () => new CircuitBreaker(o));
  }

  /** Partitions not in the closed state (for readiness and logs). */
  notClosed(): number[] {
    return this.each.flatMap((b, i) => (b.state === 'closed' ? [] : [i]));
  }
}
