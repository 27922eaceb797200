import { UsageError } from '../../runtime/cli-args.ts';
import { InvalidArgumentError } from '../../runtime/errors.ts';
import type { Io } from './main.ts';

/** Bad command-line input of any service's parser (ours, or node:util parseArgs directly). */
export function isUsageError(e: unknown): boolean {
  if (e instanceof UsageError) return true;
  if (e instanceof InvalidArgumentError && (e.field.startsWith('-') || e.field === 'arguments')) return true;
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/** Runs a command body: usage errors become one line on stderr and exit code 2. */
export async function withUsage(cmd: string, io: Io, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (!isUsageError(e)) throw e;
    io.stderr(`edgesplit ${cmd}: ${(e as Error).message.split('\n')[0]}`);
    return 2;
  }
}
