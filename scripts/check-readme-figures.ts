/**
 * Checks that the measured figures in README.md (and docs/failure-and-security.md) are the ones in the latest
 * benchmark JSON under bench/results, so the prose cannot drift from the measurements. Part of `npm test`.
 *
 *     node --import tsx scripts/check-readme-figures.ts [--verbose] [FILE.md ...]
 *
 * Markup (HTML comments: invisible when the Markdown is rendered):
 *
 *   13.14<!--fig runtime.distributed.p50Ms--> ms
 *       The number (or range "4.3-5.5") right before the marker must equal the expression, rounded to the decimals
 *       written (13.14: two decimals, 84: none; thousands commas are allowed: 2,980). The expression is JavaScript
 *       over every bench/results/*.json, each bound to its file name in camelCase (bench, degradation, load,
 *       planner, runtime, tracing, quickBench) and the helpers below. A range compares with [min, max].
 *   0.25<!--fig input-->       a setting or a target, not a measurement (nothing to compare)
 *   30<!--fig unchecked: measured by hand with /proc, no JSON--> MB
 *                              a measurement with no JSON behind it: listed on every run, with its reason
 *   <!--fig-table degradation-->
 *                              on the line before a table of accuracy with one partition down: every cell is
 *                              compared with bench/results/degradation.json (columns "all up", "pN down", "worst";
 *                              rows by package name, "(default)" must mark degradation.defaultPackage)
 *   <!--figures-->  ...  <!--/figures-->
 *                              a region where every decimal number, percentage and number of ms / MB / MiB must
 *                              carry one of the markers above (numbers in `code` are exempt)
 *
 * Helpers: row(config, mbps) (a bench.json row), row2(config, mbps) (a quick-bench-streams.json row), qrow(file, config,
 * mbps) (a row of any run, file in camelCase), speedups(config) (its speedupVsP1 at every bandwidth),
 * faster(slow, fast, mbps) (p50 ratio of two bench configs), range(values) ([min, max]), min, max, pct(x) (x * 100),
 * count(values, predicate).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RESULTS = join(ROOT, 'bench/results');
const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const files = args.filter((a) => !a.startsWith('--'));
const targets = files.length ? files : ['README.md', 'docs/failure-and-security.md'];

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const camel = (s: string) => s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const data: Record<string, Json> = Object.fromEntries(readdirSync(RESULTS).filter((f) => f.endsWith('.json'))
  .map((f) => [camel(basename(f, '.json')), JSON.parse(readFileSync(join(RESULTS, f), 'utf8'))]));

const bench = data.bench as { rows: { config: string; bandwidthMbps: number; p50Ms: number; speedupVsP1: number }[] };
const helpers = {
  /** A row of the quick run on the stream data path (quick-bench-streams.json). */
  row2(config: string, mbps: number) {
    const r = (data.quickBenchStreams as typeof bench).rows.find((x) => x.config === config && x.bandwidthMbps === mbps);
    if (!r) throw new Error(`quick-bench-streams.json has no row '${config}' at ${mbps} Mbit/s`);
    return r;
  },
  /** A row of any bench run's JSON, by its camelCase file name (e.g. 'quickBenchFused'). */
  qrow(file: string, config: string, mbps: number) {
    const r = (data[file] as typeof bench | undefined)?.rows.find((x) => x.config === config && x.bandwidthMbps === mbps);
    if (!r) throw new Error(`${file} has no row '${config}' at ${mbps} Mbit/s`);
    return r;
  },
  row(config: string, mbps: number) {
    const r = bench.rows.find((x) => x.config === config && x.bandwidthMbps === mbps);
    if (!r) throw new Error(`bench.json has no row '${config}' at ${mbps} Mbit/s`);
    return r;
  },
  speedups(config: string) {
    const rs = bench.rows.filter((x) => x.config === config);
    if (!rs.length) throw new Error(`bench.json has no rows '${config}'`);
    return rs.map((x) => x.speedupVsP1);
  },
  faster(slow: string, fast: string, mbps: number) {
    return helpers.row(slow, mbps).p50Ms / helpers.row(fast, mbps).p50Ms;
  },
  range: (v: number[]): [number, number] => [Math.min(...v), Math.max(...v)],
  min: (v: number[]) => Math.min(...v),
  max: (v: number[]) => Math.max(...v),
  pct: (x: number) => x * 100,
  count: <T>(v: T[], p: (x: T) => boolean) => v.filter(p).length,
};
const names = [...Object.keys(data), ...Object.keys(helpers)];
const values = [...Object.values(data), ...Object.values(helpers)];
const evaluate = (expr: string): unknown => new Function(...names, `"use strict"; return (${expr});`)(...values);

const NUM = String.raw`\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?`;
/** The figure right before a marker: a number or a range, e.g. "2,980", "13.14", "4.3-5.5", "0.2–0.4". */
const FIGURE_BEFORE = new RegExp(String.raw`(${NUM})(?:\s*[-–]\s*(${NUM}))?$`);

interface Problem { file: string; line: number; message: string }
const problems: Problem[] = [];
const unchecked: Problem[] = [];
let checked = 0;
let cells = 0;

/** Does `written` (as in the text) equal `value` rounded to the decimals written? */
function matches(written: string, value: number): boolean {
  const decimals = written.includes('.') ? written.split('.')[1].length : 0;
  const w = Number(written.replace(/,/g, ''));
  return Number.isFinite(value) && Math.abs(w - value) <= 0.5 * 10 ** -decimals + 1e-9;
}
const shown = (v: unknown) => (Array.isArray(v) ? `[${v.map((x) => +Number(x).toPrecision(6)).join(', ')}]` : String(+Number(v).toPrecision(6)));

function checkMarker(file: string, line: number, before: string, expr: string): void {
  if (expr === 'input') return;
  if (expr.startsWith('unchecked')) {
    if (!/^unchecked:\s*\S/.test(expr)) problems.push({ file, line, message: `'${expr}': say why (unchecked: REASON)` });
    else unchecked.push({ file, line, message: `${before.replace(/<!--[\s\S]*?-->/g, '').slice(-40).trim()} (${expr.slice(10).trim()})` });
    return;
  }
  const m = FIGURE_BEFORE.exec(before);
  if (!m) {
    problems.push({ file, line, message: `no number right before <!--fig ${expr}-->` });
    return;
  }
  let value: unknown;
  try {
    value = evaluate(expr);
  } catch (e) {
    problems.push({ file, line, message: `<!--fig ${expr}-->: ${(e as Error).message}` });
    return;
  }
  const written = m[2] ? [m[1], m[2]] : [m[1]];
  const want = Array.isArray(value) ? value.map(Number) : [Number(value)];
  const ok = written.length === want.length && written.every((w, i) => matches(w, want[i]));
  checked++;
  if (!ok) problems.push({ file, line, message: `README says ${written.join('-')}, ${expr} gives ${shown(value)}` });
  else if (verbose) console.log(`  ok ${file}:${line} ${written.join('-')} = ${expr}`);
}

/** Every cell of an accuracy-with-one-partition-down table against bench/results/degradation.json. */
function checkDegradationTable(file: string, lines: string[], start: number): void {
  const deg = data.degradation as { defaultPackage: string; packages: { package: string; full: number; worst: number;
    missing: { partition: number; accuracy: number }[] }[] };
  const cellsOf = (l: string) => l.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
  let i = start;
  while (i < lines.length && !lines[i].trim().startsWith('|')) i++;
  const header = cellsOf(lines[i]);
  for (i += 2; i < lines.length && lines[i].trim().startsWith('|'); i++) {
    const cols = cellsOf(lines[i]);
    const isDefault = /\(default\)/.test(cols[0]);
    const name = cols[0].replace(/\(default\)/, '').replace(/`/g, '').trim();
    const pkg = deg.packages.find((p) => p.package === name);
    if (!pkg) {
      problems.push({ file, line: i + 1, message: `${name} is not in degradation.json` });
      continue;
    }
    if (isDefault !== (name === deg.defaultPackage)) {
      problems.push({ file, line: i + 1, message: `"(default)" belongs to ${deg.defaultPackage}` });
    }
    header.slice(1).forEach((h, c) => {
      const cell = cols[c + 1] ?? '';
      const down = /^p(\d+) down$/.exec(h);
      const value = h === 'all up' ? pkg.full : h === 'worst' ? pkg.worst
        : down ? pkg.missing.find((x) => x.partition === Number(down[1]))?.accuracy : NaN;
      if (Number.isNaN(value)) return problems.push({ file, line: i + 1, message: `unknown column '${h}'` });
      cells++;
      if (value === undefined) {
        if (cell !== '') problems.push({ file, line: i + 1, message: `${name}, ${h}: '${cell}' but the package has no such partition` });
        return;
      }
      const m = /^(\d+(?:\.\d+)?)%$/.exec(cell);
      if (!m || !matches(m[1], value * 100)) {
        problems.push({ file, line: i + 1, message: `${name}, ${h}: README says '${cell}', degradation.json gives ${+(value * 100).toFixed(3)}%` });
      }
    });
  }
}

/** Numbers that look measured: decimals, percentages, and numbers of ms / MB / MiB. */
const LOOKS_MEASURED = new RegExp(String.raw`(?<![\w.,-])(?:${NUM})(?:\s*[-–]\s*(?:${NUM}))?(?=%|\s?(?:ms|MB|MiB)\b)|(?<![\w.,-])\d+\.\d+`, 'g');

for (const rel of targets) {
  const text = readFileSync(resolve(ROOT, rel), 'utf8');
  const lines = text.split('\n');
  let inRegion = false;
  lines.forEach((line, n) => {
    if (/<!--\s*figures\s*-->/.test(line)) inRegion = true;
    if (/<!--\s*\/figures\s*-->/.test(line)) inRegion = false;
    if (/<!--\s*fig-table\s+degradation\s*-->/.test(line)) checkDegradationTable(rel, lines, n + 1);
    for (const m of line.matchAll(/<!--fig\s+([\s\S]*?)-->/g)) checkMarker(rel, n + 1, line.slice(0, m.index), m[1].trim());
    if (inRegion && !line.trim().startsWith('|')) {
      // Unmarked figures: strip code spans and every marked figure with its marker, then look for numbers left.
      const rest = line.replace(/`[^`]*`/g, '').replace(new RegExp(String.raw`(?:${NUM})(?:\s*[-–]\s*(?:${NUM}))?<!--fig[\s\S]*?-->`, 'g'), '')
        .replace(/<!--[\s\S]*?-->/g, '');
      for (const u of rest.matchAll(LOOKS_MEASURED)) {
        problems.push({ file: rel, line: n + 1, message: `unmarked figure '${u[0]}' (mark it: <!--fig EXPR-->, <!--fig input--> or <!--fig unchecked: why-->)` });
      }
    }
  });
}

for (const u of unchecked) console.log(`  unchecked ${u.file}:${u.line}: ${u.message}`);
for (const p of problems) console.error(`  FAIL ${p.file}:${p.line}: ${p.message}`);
console.log(`README figures: ${checked} checked against bench/results/*.json, ${cells} table cells, ${unchecked.length} unchecked, ${problems.length} problems`);
process.exitCode = problems.length ? 1 : 0; // not process.exit(): it can cut off piped output
