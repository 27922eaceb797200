// Whether this process started telemetry. Wrappers read it when they are created, so with telemetry off every
// wrapper returns the thing it wraps unchanged and the serving path pays nothing.

export interface ActiveTelemetry {
  tracing: boolean;
  metrics: boolean;
  /** Spans per ONNX unit run (EDGESPLIT_TRACE_UNITS). */
  unitSpans?: boolean;
}

let active: ActiveTelemetry = { tracing: false, metrics: false };

export function setActive(a: ActiveTelemetry): void {
  active = { ...a };
}

export function telemetryActive(): ActiveTelemetry {
  return active;
}

/** Either traces or metrics are on. */
export function instrumented(): boolean {
  return active.tracing || active.metrics;
}
