import { metrics, type Attributes, type Counter, type Histogram, type MeterProvider } from '@opentelemetry/api';
import { METRIC, TRACER_NAME } from './names.ts';

interface Instruments {
  serverDuration: Histogram;
  clientDuration: Histogram;
  requests: Counter;
  exchangedBytes: Counter;
  computeDuration: Histogram;
  degraded: Counter;
}

// Latencies here run from ~1 ms (a push on loopback) to seconds (a big batch on a slow node).
const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// Made again whenever the global MeterProvider changes (the SDK starting or stopping): the metrics API has no proxy
// provider, so instruments made before the SDK started would otherwise stay no-ops for the life of the process.
let cached: { provider: MeterProvider; instruments: Instruments } | undefined;

/** The process's instruments from the current global MeterProvider (no-ops when none is set). */
export function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  if (cached?.provider === provider) return cached.instruments;
  const m = provider.getMeter(TRACER_NAME);
  const made: Instruments = {
    serverDuration: m.createHistogram(METRIC.serverDuration, { unit: 's', description: 'Duration of unary gRPC calls served',
      advice: { explicitBucketBoundaries: SECONDS } }),
    clientDuration: m.createHistogram(METRIC.clientDuration, { unit: 's', description: 'Duration of unary gRPC calls made',
      advice: { explicitBucketBoundaries: SECONDS } }),
    requests: m.createCounter(METRIC.requests, { unit: '{request}', description: 'Unary gRPC calls served, by method and status code' }),
    exchangedBytes: m.createCounter(METRIC.exchangedBytes, { unit: 'By', description: 'Activation bytes pushed to peer partitions' }),
    computeDuration: m.createHistogram(METRIC.computeDuration, { unit: 's', description: 'Compute time of one partition Run (stem to pooling)',
      advice: { explicitBucketBoundaries: SECONDS } }),
    degraded: m.createCounter(METRIC.degraded, { unit: '{answer}', description: 'Answers given with a partition or a point missing' }),
  };
  cached = { provider, instruments: made };
  return made;
}

export function recordServerCall(attrs: Attributes, seconds: number): void {
  const i = instruments();
  i.serverDuration.record(seconds, attrs);
  i.requests.add(1, attrs);
}
