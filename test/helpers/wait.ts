/**
 * Polls `f` every 500 ms until it returns something truthy (returned) or `timeoutMs` passes; the error names what was
 * awaited, the last error `f` threw and `detail()` (e.g. a cluster listing), so a timed-out test says why.
 */
export async function waitFor<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs = 60_000, detail = () => ''): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}\n${detail()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
