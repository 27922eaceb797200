import type { PartitionClient, PartitionRunRequest, PartitionRunResult } from '../../src/roles/router/partition-client.ts';

/** A scripted PartitionClient for unit tests: each run() takes the next outcome (an error to throw or features). */
export class FakePartitionClient implements PartitionClient {
  readonly address: string;
  calls: PartitionRunRequest[] = [];
  ready = true;

  constructor(readonly index: number, private readonly outcomes: (Error | Float32Array)[]) {
    this.address = `fake:${index}`;
  }

  async run(req: PartitionRunRequest): Promise<PartitionRunResult> {
    this.calls.push(req);
    const o = this.outcomes.shift();
    if (!o) throw new Error('FakePartitionClient: no outcome left');
    if (o instanceof Error) throw o;
    return { features: o, sentBytes: 0, missedPoints: [], computeMs: 0 };
  }

  async healthy(): Promise<boolean> {
    return this.ready;
  }

  async waitReady(): Promise<boolean> {
    return this.ready;
  }

  close(): void {}
}
