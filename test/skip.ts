// Skipping with a reason. scripts/test.sh counts every skipped test and, under CI=true, fails the run unless each
// skip names a reason CI accepts (EDGESPLIT_CI_ALLOWED_SKIPS, default /^needs a GPU/). A bare this.skip() has no
// reason and therefore always fails a CI run: use skipBecause instead.

/**
 * Skips the current test, or every test of the suite when called from a hook, recording `reason` where the summary
 * reporter (scripts/mocha-summary-reporter.cjs) finds it.
 */
export function skipBecause(ctx: Mocha.Context, reason: string): never {
  const runnable = ctx.test as (Mocha.Runnable & { type?: string; skipReason?: string; parent?: Mocha.Suite & { skipReason?: string } }) | undefined;
  if (runnable?.type === 'hook' && runnable.parent) runnable.parent.skipReason = reason;
  else if (runnable) runnable.skipReason = reason;
  console.log(`    skipped: ${reason}`);
  ctx.skip();
  throw new Error('unreachable: this.skip() throws');
}
