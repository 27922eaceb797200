import * as ort from 'onnxruntime-node';

export interface SessionOptions {
  /** Threads for one operator; 1 per partition keeps P processes on P cores from oversubscribing. */
  intraOpThreads?: number;
}

export interface RunOutput {
  data: Float32Array;
  dims: number[];
}

/** One ONNX unit on the CPU execution provider with a single float32 input. */
export class OrtUnit {
  private released = false;

  private constructor(readonly name: string, private readonly session: ort.InferenceSession,
    readonly inputName: string, readonly outputNames: readonly string[]) {}

  static async create(path: string, name: string, opts: SessionOptions = {}): Promise<OrtUnit> {
    const session = await ort.InferenceSession.create(path, {
      executionProviders: ['cpu'],
      intraOpNumThreads: opts.intraOpThreads ?? 1,
      // Inter-op parallelism buys nothing for these sequential graphs and costs threads.
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Per-session arenas keep each unit's batch-peak forever (10 units x peak); freeing after each run
      // kept a P=4 partition well under its memory target at no measurable cost in speed.
      enableCpuMemArena: false,
      enableMemPattern: false,
    });
    if (session.inputNames.length !== 1) {
      await session.release();
      throw new Error(`unit ${name}: expected one input, found ${session.inputNames.join(', ')}`);
    }
    return new OrtUnit(name, session, session.inputNames[0], session.outputNames);
  }

  /** Runs the unit on a float32 tensor and returns `output` (default: the first output). */
  async run(input: Float32Array, dims: readonly number[], output?: string): Promise<RunOutput> {
    const results = await this.runAll(input, dims);
    const name = output ?? this.outputNames[0];
    const r = results[name];
    if (!r) throw new Error(`unit ${this.name}: no output ${name}`);
    return r;
  }

  /** Runs the unit and returns every float32 output by name. */
  async runAll(input: Float32Array, dims: readonly number[]): Promise<Record<string, RunOutput>> {
    if (this.released) throw new Error(`unit ${this.name}: session released`);
    const feeds = { [this.inputName]: new ort.Tensor('float32', input, dims as number[]) };
    const results = await this.session.run(feeds);
    const out: Record<string, RunOutput> = {};
    for (const [k, v] of Object.entries(results)) {
      if (v.type !== 'float32') throw new Error(`unit ${this.name}: output ${k} is ${v.type}, not float32`);
      out[k] = { data: v.data as Float32Array, dims: v.dims.map(Number) };
    }
    return out;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

/** Creates one unit session (see OrtUnit). */
export function createUnit(path: string, name: string, opts?: SessionOptions): Promise<OrtUnit> {
  return OrtUnit.create(path, name, opts);
}
