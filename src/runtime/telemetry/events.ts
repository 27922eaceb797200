import { trace, type Attributes, type Span } from '@opentelemetry/api';
import { tracingOn } from './enabled.ts';
import { ATTR } from './names.ts';

/**
 * The span a step's event belongs to: the active one (a request's SERVER span: the interceptors and frames.ts run
 * each handler inside it), or undefined with tracing off. A request the sampler dropped has a non-recording span,
 * on which events cost nothing.
 */
export const activeSpan = (): Span | undefined => (tracingOn() ? trace.getActiveSpan() : undefined);

/**
 * Adds an event to `span` if it is still open. Steps that settle after their request answered (a push's
 * acknowledgement) would otherwise hit an ended span, which the SDK answers with a warning per call.
 */
export function eventIfOpen(span: Span | undefined, name: string, attrs: Attributes, time: number): void {
  if (span?.isRecording()) span.addEvent(name, attrs, time);
}

/** A call a caller records as an event on its own span instead of a CLIENT span (frames.ts, grpc-client.ts). */
export interface CallEvent {
  /** Event name, e.g. EVENT.run. */
  name: string;
  attributes: Attributes;
}

/** The event's attributes once the call settled: its own, the gRPC status code, the duration, the error if any. */
export const callEventAttributes = (e: CallEvent, code: number, ms: number, error?: string): Attributes =>
  ({ ...e.attributes, [ATTR.rpcStatus]: code, [ATTR.durationMs]: ms, ...(error === undefined ? {} : { [ATTR.errorMessage]: error }) });
