import { createNoopMeter, metrics, ProxyTracerProvider, trace, type MeterProvider, type Tracer } from '@opentelemetry/api';
import { TRACER_NAME } from './names.ts';

// Whether telemetry is on is asked of the OpenTelemetry API itself, per call, never remembered at creation: the
// API's global ProxyTracerProvider gets its delegate when the SDK starts (sdk-node.ts), and the global MeterProvider
// is replaced then. So servers, clients and wrappers made before the SDK starts trace once it has started, and with
// no SDK every check below is a few property reads and the serving path does no telemetry work.

/** Spans are recorded: an SDK registered a TracerProvider behind the API's ProxyTracerProvider. */
export function tracingOn(): boolean {
  const p = trace.getTracerProvider();
  return !(p instanceof ProxyTracerProvider) || p.getDelegateTracer(TRACER_NAME) !== undefined;
}

/** The tracer for edgesplit's spans, looked up per use (a tracer kept from before the SDK started stays a no-op). */
export const tracer = (): Tracer => trace.getTracer(TRACER_NAME);

const NoopMeter = createNoopMeter().constructor;
let probed: { provider: MeterProvider; on: boolean } | undefined;

/** Metric instruments record: the global MeterProvider is not the API's no-op (the API has no proxy for meters). */
export function metricsOn(): boolean {
  const provider = metrics.getMeterProvider();
  if (probed?.provider !== provider) probed = { provider, on: !(provider.getMeter(TRACER_NAME) instanceof NoopMeter) };
  return probed.on;
}

/** Either traces or metrics are on. */
export function instrumented(): boolean {
  return tracingOn() || metricsOn();
}
