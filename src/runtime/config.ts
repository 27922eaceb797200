// The one configuration path of every role and command: settings (flag, environment variable, default, help text)
// declared once, parsed by commander, merged (a flag wins over its variable, the variable over the default) and
// validated once by the caller's zod schema. Every problem is a UsageError naming where the value came from: the
// flag (--max-batch) or the variable (EDGESPLIT_MAX_BATCH).
import { Command, CommanderError, Option } from 'commander';
import type { z } from 'zod';
import { UsageError } from './errors.ts';
import { loadTls, tlsFilesFrom, TlsConfigError, type TlsFiles, type TlsMaterial } from './tls.ts';

export { UsageError };

export interface Setting {
  /** The flag without its dashes: 'max-batch' is --max-batch. */
  flag: string;
  /** One line for --help. */
  description: string;
  /** 'value' (default): --flag VALUE. 'switch': --flag alone means true. 'optional': --flag alone means true, --flag VALUE too. */
  kind?: 'value' | 'switch' | 'optional';
  /** The value's name in --help (default: the flag's last word, upper case). */
  arg?: string;
  /** A switch that also has its --no-<flag> form (the later one wins). */
  negatable?: boolean;
  /** Read when the flag is absent. Roles: EDGESPLIT_<FLAG> unless given (roleSettings); commands read none. */
  env?: string;
  /** The raw value used when neither the flag nor the variable is set; shown in --help. */
  default?: string;
  /** A one-letter alias, without its dash. */
  short?: string;
  /** The flag may be given more than once: the values are joined with commas. */
  repeat?: boolean;
}

export type Settings = Record<string, Setting>;
export type Env = Record<string, string | undefined>;

/** What parseSettings read: raw text per setting key (absent: unset) and where each value came from. */
export interface RawSettings<K extends string> {
  raw: Partial<Record<K, string>>;
  /** The flag (--max-batch) or variable (EDGESPLIT_MAX_BATCH) that set each key; unset keys are named by their flag. */
  nameOf: (key: K) => string;
  /** True where the value came from the environment. */
  fromEnv: (key: K) => boolean;
  positionals: string[];
}

/** EDGESPLIT_<FLAG_IN_UPPER_SNAKE>. */
export const envNameOf = (flag: string): string => `EDGESPLIT_${flag.replace(/-/g, '_').toUpperCase()}`;

/** A role's settings: every setting without an explicit `env` reads EDGESPLIT_<FLAG>. */
export function roleSettings<S extends Settings>(settings: S): S {
  return Object.fromEntries(Object.entries(settings).map(([k, s]) => [k, { ...s, env: s.env ?? envNameOf(s.flag) }])) as S;
}

function optionOf(s: Setting): Option[] {
  const arg = s.arg ?? s.flag.split('-').at(-1)!.toUpperCase();
  const spec = `${s.short ? `-${s.short}, ` : ''}--${s.flag}${s.kind === 'switch' ? '' : s.kind === 'optional' ? ` [${arg}]` : ` <${arg}>`}`;
  const o = new Option(spec, s.description);
  if (s.repeat) o.argParser((v: string, prev: unknown) => [...(Array.isArray(prev) ? prev : []), v]);
  if (s.default !== undefined) o.default(s.default, s.default);
  // For --help only: parseSettings reads the variable from the env it is given, never from commander.
  if (s.env) o.env(s.env);
  const out = [o];
  if (s.negatable) out.push(new Option(`--no-${s.flag}`, `not --${s.flag}`));
  return out;
}

/** Declares the settings as commander options on `cmd` (for parsing and for --help). */
export function addSettings(cmd: Command, settings: Settings): Command {
  for (const s of Object.values(settings)) for (const o of optionOf(s)) cmd.addOption(o);
  return cmd;
}

/**
 * A commander Command that never exits the process and never prints errors itself: parse errors are thrown as
 * CommanderError (usageFromCommander turns them into UsageError); help goes to `writeOut`.
 */
export function quietCommand(name: string, writeOut: (s: string) => void = () => {}): Command {
  return new Command(name).exitOverride().configureOutput({ writeOut, writeErr: () => {}, outputError: () => {} })
    .showSuggestionAfterError(true);
}

/** commander's parse errors as a one-line UsageError naming the flag. */
export function usageFromCommander(e: CommanderError): UsageError {
  const msg = e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim();
  if (e.code === 'commander.unknownCommand') {
    const name = /'([^']*)'/.exec(msg)?.[1] ?? '';
    return new UsageError(name, `unknown command${msg.includes('(') ? ` ${msg.slice(msg.indexOf('('))}` : ''}`);
  }
  const flag = /'(-{1,2}[^' =]+)/.exec(msg)?.[1];
  if (!flag) return new UsageError('arguments', msg);
  // "unknown option '--x' (Did you mean --y?)" -> "--x: unknown option (Did you mean --y?)"
  return new UsageError(flag, msg.replace(/^option '[^']*' /, '').replace(/ '-{1,2}[^']*'/, ''));
}

/** Thrown by parseCommand when --help was asked for and written. */
export class HelpShown extends Error {
  constructor() {
    super('help shown');
    this.name = 'HelpShown';
  }
}

/** Parses argv with `cmd` (from quietCommand + addSettings): HelpShown after --help, UsageError on bad usage. */
export function parseCommand(cmd: Command, argv: string[]): void {
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version') throw new HelpShown();
    throw usageFromCommander(e);
  }
}

/** The values `cmd` parsed merged with `env` and the defaults (flag > variable > default), with their provenance. */
export function settingsFrom<S extends Settings>(cmd: Command, settings: S, env: Env): RawSettings<Extract<keyof S, string>> {
  type K = Extract<keyof S, string>;
  const opts = cmd.opts();
  const raw: Partial<Record<K, string>> = {};
  const names: Partial<Record<K, string>> = {};
  const envKeys = new Set<K>();
  for (const [key, s] of Object.entries(settings) as [K, Setting][]) {
    const attr = new Option(`--${s.flag}`).attributeName();
    const given = cmd.getOptionValueSource(attr) === 'cli';
    const v = opts[attr];
    const fromEnv = s.env ? env[s.env] : undefined;
    if (given && v !== undefined) {
      // A bare --no-x switch (no --x) reads as x=true; --x/--no-x as 'true'/'false'.
      raw[key] = s.kind === 'switch' && !s.negatable ? 'true' : String(v);
      names[key] = s.negatable && v === false ? `--no-${s.flag}` : `--${s.flag}`;
    } else if (fromEnv !== undefined && fromEnv !== '') {
      raw[key] = fromEnv;
      names[key] = s.env!;
      envKeys.add(key);
    } else if (s.default !== undefined) {
      raw[key] = s.default;
    }
  }
  return {
    raw, positionals: cmd.args,
    nameOf: (key) => names[key] ?? `--${settings[key].flag}`,
    fromEnv: (key) => envKeys.has(key),
  };
}

/** Parses argv (no --help: it is a command's business) and merges env: flag > variable > default. */
export function parseSettings<S extends Settings>(argv: string[], env: Env, settings: S, o: { positionals?: boolean } = {}):
  RawSettings<Extract<keyof S, string>> {
  const cmd = addSettings(quietCommand('settings').helpOption(false), settings);
  if (o.positionals) cmd.argument('[args...]');
  parseCommand(cmd, argv);
  return settingsFrom(cmd, settings, env);
}

/** Validates raw settings once; the first problem is a UsageError naming the flag or variable and the value given. */
export function validateSettings<T, K extends string>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, r: RawSettings<K>): T {
  const parsed = schema.safeParse(r.raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const key = String(issue.path[0] ?? '') as K;
  const value = r.raw[key];
  const shown = value !== undefined && !issue.message.includes(`'${value}'`) ? ` (got '${value}')` : '';
  throw new UsageError(key ? r.nameOf(key) : 'arguments', `${issue.message}${shown}`);
}

/** parseSettings + validateSettings: the whole path for a role or a command. */
export function loadSettings<T, S extends Settings>(argv: string[], env: Env, settings: S, schema: z.ZodType<T, z.ZodTypeDef, unknown>,
  o: { positionals?: boolean } = {}): { config: T } & RawSettings<Extract<keyof S, string>> {
  const r = parseSettings(argv, env, settings, o);
  return { ...r, config: validateSettings(schema, r) };
}

/** 'true'/'false' (also 1/0, yes/no, on/off) as a boolean; anything else is an issue naming the value. */
export function boolText(v: string, ctx: z.RefinementCtx): boolean {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  ctx.addIssue({ code: 'custom', message: 'expected true or false' });
  return false;
}

/** The TLS settings every role takes (src/runtime/tls.ts); roleSettings gives them EDGESPLIT_TLS_* variables. */
export const TLS_SETTINGS = {
  tlsCert: { flag: 'tls-cert', arg: 'FILE', description: "this process's certificate chain (PEM); TLS is on when it and --tls-key are set" },
  tlsKey: { flag: 'tls-key', arg: 'FILE', description: 'the private key of --tls-cert (PEM)' },
  tlsCa: { flag: 'tls-ca', arg: 'FILE', description: 'the cluster CA (PEM) that verifies peers in both directions' },
  tlsRequireClientCert: { flag: 'tls-require-client-cert', kind: 'optional', arg: 'BOOL', description: 'refuse clients without a certificate signed by --tls-ca (mTLS)' },
  tlsServerName: { flag: 'tls-server-name', arg: 'NAME', description: "the name expected in peers' certificates when it is not the dialled host" },
} satisfies Settings;

type TlsKey = keyof typeof TLS_SETTINGS;

/** Per TlsFiles read from settings: the name each --tls-* setting was given by (the flag or its variable), for errors. */
const tlsNames = new WeakMap<TlsFiles, Record<string, string>>();

function withTlsNames<T>(names: Record<string, string>, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof TlsConfigError)) throw e;
    const rename = (s: string) => s.replace(/--tls-[a-z-]+/g, (m) => names[m] ?? m);
    throw new UsageError(rename(e.flag), rename(e.message.slice(e.flag.length + 2)));
  }
}

/**
 * The TLS paths of parsed role settings, checked for consistency (cert with key, ...), files not read yet. Errors
 * name what the user set: the flag or the variable; a missing partner is named in the same form as the ones set.
 */
export function tlsFilesFromSettings<K extends string>(r: RawSettings<K | TlsKey>): TlsFiles {
  const keys = Object.keys(TLS_SETTINGS) as TlsKey[];
  const set = keys.filter((k) => r.raw[k] !== undefined);
  const envStyle = set.length > 0 && set.every((k) => r.fromEnv(k));
  const names = Object.fromEntries(keys.map((k) => {
    const flag = `--${TLS_SETTINGS[k].flag}`;
    return [flag, r.raw[k] !== undefined ? r.nameOf(k) : envStyle ? envNameOf(TLS_SETTINGS[k].flag) : flag];
  }));
  const files = withTlsNames(names, () => tlsFilesFrom(Object.fromEntries(keys.map((k) => [TLS_SETTINGS[k].flag, r.raw[k]])), {}));
  tlsNames.set(files, names);
  return files;
}

/**
 * Reads the PEM files (undefined: TLS off); errors are UsageErrors naming the flag or variable the paths came from
 * (tlsFilesFromSettings), never the contents.
 */
export function loadTlsFiles(files: TlsFiles): TlsMaterial | undefined {
  return withTlsNames(tlsNames.get(files) ?? {}, () => loadTls(files));
}

/** tlsFilesFromSettings + loadTlsFiles. */
export function tlsFromSettings<K extends string>(r: RawSettings<K | TlsKey>): TlsMaterial | undefined {
  return loadTlsFiles(tlsFilesFromSettings(r));
}
