import { SpanStatusCode, type Span } from '@opentelemetry/api';
import { hrNow } from './clock.ts';

/**
 * Ends `span` when `work` settles: with ERROR status and the message when it rejects (the rejection goes on).
 * `onValue` may add attributes from the result; a failure there never fails the work.
 */
export function endSpanAfter<T>(span: Span, work: Promise<T>, onValue?: (v: T, span: Span) => void): Promise<T> {
  return work.then((v) => {
    try {
      onValue?.(v, span);
    } catch {
      // a span attribute never fails the work it describes
    }
    span.end(hrNow());
    return v;
  }, (err: unknown) => {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    span.end(hrNow());
    throw err;
  });
}
