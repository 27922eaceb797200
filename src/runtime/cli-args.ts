import { parseArgs } from 'node:util';

/** Bad command-line input: the message names the flag; commands exit with code 2. */
export class UsageError extends Error {
  constructor(readonly flag: string, detail: string) {
    super(`${flag}: ${detail}`);
    this.name = 'UsageError';
  }
}

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/** node:util parseArgs with its errors turned into UsageError (unknown flag, missing value, stray argument). */
export function parseFlags(argv: string[], spec: FlagSpec, positionals = false):
  { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options: spec, strict: true, allowPositionals: positionals });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    const msg = (e as Error).message;
    const flag = /'(-{1,2}[^' ]+)/.exec(msg)?.[1] ?? 'arguments';
    throw new UsageError(flag, msg.split('\n')[0]);
  }
}

export function intFlag(name: string, raw: string | boolean | undefined, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return def;
  const s = String(raw);
  if (!/^-?\d+$/.test(s)) throw new UsageError(`--${name}`, `expected an integer, got '${s}'`);
  const v = Number(s);
  if (v < min || v > max) throw new UsageError(`--${name}`, `${v} is outside ${min}..${max}`);
  return v;
}

export function boolText(name: string, raw: string | undefined, def: boolean): boolean {
  if (raw === undefined || raw === '') return def;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new UsageError(name, `expected true or false, got '${raw}'`);
}
