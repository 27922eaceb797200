import { status as Status } from '@grpc/grpc-js';
import { EdgesplitError } from '../../runtime/errors.ts';
import type { PartitionClient, PartitionRunRequest, PartitionRunResult } from './partition-client.ts';

/**
 * true only for failures where the partition cannot have seen the request: grpc-js found no connection (refused,
 * reconnect backoff) and never sent it; or a draining partition ended the RunStream (services/common/mux-stream.ts)
 * with the request still pending: a partition ends a stream only once every Run it took from it is answered
 * (halfCloser), so a Run still pending at the end was never started. Seen on real nodes: a partition pod replaced
 * during a re-plan ended the stream under a request, and with one partition there was nothing to degrade to.
 * A dropped connection, a reset or a deadline is not safe: the partition may already have pushed slices to its
 * peers, and a second Run would push them again.
 */
export function neverSent(err: unknown): boolean {
  if (!(err instanceof EdgesplitError) && !(typeof err === 'object' && err !== null && 'code' in err)) return false;
  const code = (err as { code: number }).code;
  const text = err instanceof Error ? err.message : String((err as { details?: string }).details ?? '');
  return code === Status.UNAVAILABLE && /No connection established|ECONNREFUSED|stream ended by the server/.test(text);
}

/**
 * One partition call with at most one retry, only when the first attempt provably never reached the partition
 * (a restarted partition whose port is open again, a channel still in reconnect backoff): wait up to
 * `readyWaitMs` for the channel to connect, then try once more with the same request id and deadline.
 */
export async function runWithSafeRetry(client: PartitionClient, req: PartitionRunRequest, deadlineMs: number,
  signal: AbortSignal | undefined, readyWaitMs = 250): Promise<PartitionRunResult> {
  try {
    return await client.run(req, deadlineMs, signal);
  } catch (err) {
    const left = deadlineMs - Date.now();
    if (!neverSent(err) || signal?.aborted || !client.waitReady || left < 4 * readyWaitMs) throw err;
    if (!(await client.waitReady(Math.min(readyWaitMs, left / 4)))) throw err;
    if (signal?.aborted) throw err;
    return client.run(req, deadlineMs, signal);
  }
}
