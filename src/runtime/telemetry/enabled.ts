import { createNoopMeter, metrics, ProxyTracerProvider, trace, type MeterProvider, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { TRACER_NAME } from './names.ts';

// Whether telemetry is on is asked of the OpenTelemetry API itself, per call, never remembered at creation: the
// API's global ProxyTracerProvider gets its delegate when the SDK starts (sdk-node.ts), and the global MeterProvider
// is replaced then. So servers, clients and wrappers made before the SDK starts trace once it has started, and with
// no SDK every check below is a few property reads and the serving path does no telemetry work.

// The tracer is looked up again only when the provider behind the API changed (the SDK started or stopped): a
// lookup builds a key string and searches the SDK's map, and the serving path asks several times per request.
let resolved: { provider: TracerProvider; tracer: Tracer | undefined } | undefined;

function delegateTracer(): Tracer | undefined {
  const p = trace.getTracerProvider();
  const provider = p instanceof ProxyTracerProvider ? p.getDelegate() : p;
  if (resolved?.provider !== provider) {
    resolved = { provider, tracer: p instanceof ProxyTracerProvider ? p.getDelegateTracer(TRACER_NAME) : p.getTracer(TRACER_NAME) };
  }
  return resolved.tracer;
}

/** Spans are recorded: an SDK registered a TracerProvider behind the API's ProxyTracerProvider. */
export function tracingOn(): boolean {
  return delegateTracer() !== undefined;
}

/** The tracer for edgesplit's spans (a no-op one while no SDK is started). */
export const tracer = (): Tracer => delegateTracer() ?? trace.getTracer(TRACER_NAME);

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
