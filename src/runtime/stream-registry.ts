/**
 * The open long-lived streams of one server, so that a draining server can end them (a long-lived stream
 * would otherwise hold tryShutdown until its timeout).
 */
export class StreamRegistry {
  private readonly open = new Set<{ end: () => void }>();
  private closing = false;

  add(s: { end: () => void }): () => void {
    if (this.closing) {
      s.end();
      return () => {};
    }
    this.open.add(s);
    return () => this.open.delete(s);
  }

  /** Ends every stream once its in-flight requests are answered; new streams are ended at once. */
  endAll(): void {
    this.closing = true;
    for (const s of this.open) s.end();
    this.open.clear();
  }
}


/**
 * Ends a server stream (call.end()) once the client has half-closed or the server is draining, and nothing on it
 * is still in flight: every request that arrived gets its answer first.
 */
export function halfCloser(call: { end: () => void }, inFlight: () => number) {
  let wantEnd = false;
  let ended = false;
  return {
    request(): void {
      wantEnd = true;
      this.maybe();
    },
    maybe(): void {
      if (wantEnd && !ended && inFlight() === 0) {
        ended = true;
        call.end();
      }
    },
    get ended(): boolean {
      return ended;
    },
  };
}
