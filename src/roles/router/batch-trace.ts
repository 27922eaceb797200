// Traces through the dynamic batcher. A batch runs in the trace of its first member, inside an `edgesplit.batch`
// span linked to every other member's request span, so one trace shows the batch's partitions and pushes; each other
// member's request span gets an `edgesplit.batched` event naming that trace, so every inference leads to it.
import { context, trace, type Context, type Link } from '@opentelemetry/api';
import { hrNow } from '../../runtime/telemetry/clock.ts';
import { tracer, tracingOn } from '../../runtime/telemetry/enabled.ts';
import { ATTR } from '../../runtime/telemetry/names.ts';
import { endSpanAfter } from '../../runtime/telemetry/span.ts';

export const BATCH_SPAN = 'edgesplit.batch';

/** The context a request was queued in (undefined while tracing is off: nothing to carry). */
export type BatchTraceContext = Context | undefined;

export const batchContext = (): BatchTraceContext => (tracingOn() ? context.active() : undefined);

/**
 * Runs `fn` for a batch of `members` (their queue-time contexts, in batch order) in the first member's context:
 * batches are dispatched from timers and from other batches' completions, whose context is nobody's.
 */
export function inBatchTrace<T>(members: readonly BatchTraceContext[], images: number, fn: () => Promise<T>): Promise<T> {
  const first = members[0];
  if (first === undefined || !tracingOn()) return fn();
  if (members.length === 1) return context.with(first, fn);
  const links: Link[] = members.slice(1).flatMap((c) => {
    const sc = c && trace.getSpanContext(c);
    return sc ? [{ context: sc }] : [];
  });
  const span = tracer().startSpan(BATCH_SPAN, { startTime: hrNow(), links,
    attributes: { [ATTR.batch]: images, 'edgesplit.batch_requests': members.length } }, first);
  const { traceId, spanId } = span.spanContext();
  for (const c of members.slice(1)) {
    (c && trace.getSpan(c))?.addEvent('edgesplit.batched', { [ATTR.batch]: images,
      'edgesplit.batch_requests': members.length, 'edgesplit.batch_trace_id': traceId, 'edgesplit.batch_span_id': spanId }, hrNow());
  }
  return context.with(trace.setSpan(first, span), () => endSpanAfter(span, fn()));
}
