// How every `edgesplit` command parses its command line: one commander Command per command built from its settings
// (src/runtime/config.ts), the same --help layout, and one error path: a UsageError (bad flag, missing or bad value,
// stray argument) is one line on stderr naming the flag and exit code 2; --help is exit 0.
import type { Command } from 'commander';
import type { z } from 'zod';
import { addSettings, HelpShown, parseCommand, quietCommand, settingsFrom, UsageError, validateSettings, type RawSettings,
  type Settings } from '../../runtime/config.ts';

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export interface CommandSpec<S extends Settings = Settings> {
  /** The words after `edgesplit`: 'demo', 'bench runtime', 'serve partition'. */
  name: string;
  /** One line: the top of --help and the listing of the parent command. */
  summary: string;
  /** More text for --help, after the summary. */
  help?: string;
  settings: S;
  /** Positional arguments in commander's notation ('[images...]') and their help. */
  args?: { spec: string; description: string };
  /** Subcommands (name -> summary), listed by --help. */
  subcommands?: Record<string, string>;
  /** The program's name in help and errors, when it is not `edgesplit <name>` (benchmark programs). */
  program?: string;
  /** Environment read by the settings that name a variable (roles); commands read none. */
  env?: Record<string, string | undefined>;
}

/** The commander Command of a spec: options, arguments and help text; never exits, prints help through `out`. */
export function commandOf(spec: CommandSpec, out: (s: string) => void = () => {}): Command {
  const cmd = quietCommand(spec.program ?? `edgesplit ${spec.name}`, (s) => out(s.replace(/\n$/, '')))
    .description([spec.summary, spec.help?.replace(/\s*\n\s*/g, ' ')].filter(Boolean).join('\n\n'))
    .helpOption('-h, --help', 'show this help')
    .configureHelp({ sortOptions: false, showGlobalOptions: false });
  addSettings(cmd, spec.settings);
  // Without an action, commander answers a command that has subcommands but got none with its help, as an error.
  cmd.action(() => {});
  if (spec.args) cmd.argument(spec.args.spec, spec.args.description);
  for (const [name, summary] of Object.entries(spec.subcommands ?? {})) {
    // Listed only: the parent dispatches on its first word before parsing.
    cmd.command(name).description(summary).helpOption(false).allowUnknownOption().allowExcessArguments();
  }
  return cmd;
}

/** One line for stderr, whatever was thrown. */
export function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

/** Turns a UsageError thrown by `body` into its one line on stderr and exit code 2; anything else propagates. */
export async function withUsage(name: string, io: Io, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof HelpShown) return 0;
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`edgesplit${name ? ` ${name}` : ''}: ${oneLine(e)}`);
    return 2;
  }
}

/**
 * Parses argv with the spec (--help: written to stdout, exit 0), validates the settings once with `schema`, then runs
 * `body` with the typed configuration. UsageErrors from the parser, the schema or the body: one line, exit code 2.
 */
export async function runCommand<S extends Settings, T>(spec: CommandSpec<S>, schema: z.ZodType<T, z.ZodTypeDef, unknown>,
  argv: string[], io: Io, body: (config: T, r: RawSettings<Extract<keyof S, string>>) => Promise<number>): Promise<number> {
  return withUsage(spec.name, io, async () => {
    const cmd = commandOf(spec, io.stdout);
    parseCommand(cmd, argv);
    const r = settingsFrom(cmd, spec.settings, spec.env ?? {});
    return body(validateSettings(schema, r), r);
  });
}

/**
 * The parsing half of runCommand, for a body that is already inside withUsage: the validated configuration, or
 * HelpShown after --help (withUsage answers it with exit 0), or a UsageError.
 */
export function parseArgv<S extends Settings, T>(spec: CommandSpec<S>, schema: z.ZodType<T, z.ZodTypeDef, unknown>, argv: string[],
  io: Io): T {
  const cmd = commandOf(spec, io.stdout);
  parseCommand(cmd, argv);
  return validateSettings(schema, settingsFrom(cmd, spec.settings, spec.env ?? {}));
}

/**
 * A benchmark program's command line (src/tools/bench/*): the same settings, parser, help and errors as the commands.
 * --help prints the usage and exits 0; bad usage is one line on stderr naming the flag and exit code 2.
 */
export function scriptArgs<S extends Settings, T>(spec: CommandSpec<S>, schema: z.ZodType<T, z.ZodTypeDef, unknown>,
  argv: string[] = process.argv.slice(2)): T & { positionals: string[] } {
  const io: Io = { stdout: (s) => process.stdout.write(s + '\n'), stderr: (s) => process.stderr.write(s + '\n') };
  try {
    const cmd = commandOf(spec, io.stdout);
    parseCommand(cmd, argv);
    const r = settingsFrom(cmd, spec.settings, spec.env ?? {});
    return { ...validateSettings(schema, r), positionals: r.positionals };
  } catch (e) {
    if (e instanceof HelpShown) process.exit(0);
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`${spec.program ?? spec.name}: ${oneLine(e)}`);
    process.exit(2);
  }
}
