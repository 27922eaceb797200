import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { PackageError } from './errors.ts';
import { repoPath } from './paths.ts';
import { unitSegments } from './policy.ts';

const shape3 = z.array(z.number().int().positive()).length(3);
const precision = z.enum(['fp32', 'fp16', 'uint8']);

export const manifestSchema = z.object({
  name: z.string().min(1),
  dataset: z.string(),
  classes: z.array(z.string()).min(2),
  // shape [C,H,W]; mean/std one per channel (packages made before any-size inputs carry one number).
  input: z.object({ shape: shape3, dtype: z.literal('uint8'), mean: z.union([z.number(), z.array(z.number())]),
    std: z.union([z.number(), z.array(z.number())]), layout: z.literal('NHWC').optional() }).passthrough(),
  partitions: z.number().int().positive(),
  architecture: z.object({ stem: z.number().int(), widths: z.array(z.number().int()).length(3),
    blocksPerStage: z.number().int(), cardinality: z.number().int(), stemStride: z.number().int().positive().optional() })
    .passthrough(),
  stem: z.object({ outShape: shape3, flops: z.number().nonnegative(), paramBytes: z.number().nonnegative() }),
  blocks: z.array(z.object({ index: z.number().int().nonnegative(), stage: z.number().int(), inShape: shape3,
    outShape: shape3, flops: z.number().nonnegative(), paramBytes: z.number().nonnegative() })).min(1),
  head: z.object({ inFeatures: z.number().int().positive(), classes: z.number().int().positive(),
    flops: z.number().nonnegative(), paramBytes: z.number().nonnegative() }),
  points: z.array(z.object({ afterBlock: z.number().int().nonnegative(), channels: z.number().int().positive(),
    height: z.number().int().positive(), width: z.number().int().positive() })),
  policy: z.object({ id: z.string().min(1), points: z.array(z.object({ shift: z.number().int().nonnegative(),
    fraction: z.number().positive().max(1), precision })) }),
  metrics: z.object({ valAccuracy: z.number(), testAccuracy: z.number(), exchangedBytes: z.number().int().nonnegative(),
    reductionVsBaseline: z.number(), baselineBytes: z.number().optional(), sampleAccuracy: z.number().optional() })
    .passthrough(),
  training: z.record(z.string(), z.unknown()),
  // Fused segments (training/edgesplit_train/fuse.py): one ONNX model per run of units between exchange points.
  onnx: z.object({ fused: z.array(z.object({ first: z.number().int().nonnegative(), last: z.number().int().nonnegative(),
    file: z.string().regex(/^[\w.-]+(\/[\w.-]+)*\.onnx$/, 'a relative path to a .onnx file').refine((f) => !f.split('/').includes('..'), 'no ..') }))
    .optional() }).passthrough().optional(),
}).passthrough();

export type Manifest = z.infer<typeof manifestSchema>;

export interface ModelPackage {
  dir: string;
  manifest: Manifest;
  stemPath(partition: number): string;
  blockPath(partition: number, block: number): string;
  /** A fused segment's model (manifest onnx.fused[].file, relative to the partition's directory). */
  fusedPath(partition: number, file: string): string;
  headPath(): string;
  testVectorsPath(): string;
}

function formatZod(err: z.ZodError): string {
  const i = err.issues[0];
  return `${i.path.join('.') || '(root)'}: ${i.message}`;
}

/** Loads and validates a package directory; every inconsistency names the manifest field. */
export function loadPackage(dir: string): ModelPackage {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) throw new PackageError(`package ${dir}: manifest.json not found`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new PackageError(`package ${dir}: manifest.json is not JSON (${(e as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) throw new PackageError(`package ${dir}: manifest ${formatZod(parsed.error)}`);
  const m = parsed.data;
  const P = m.partitions;
  if (m.policy.points.length !== m.points.length) {
    throw new PackageError(`package ${dir}: manifest policy.points has ${m.policy.points.length} entries for ${m.points.length} points`);
  }
  m.policy.points.forEach((p, j) => {
    if (p.shift >= P) throw new PackageError(`package ${dir}: manifest policy.points.${j}.shift ${p.shift} >= partitions ${P}`);
  });
  m.blocks.forEach((b, i) => {
    if (b.index !== i) throw new PackageError(`package ${dir}: manifest blocks.${i}.index is ${b.index}`);
  });
  if (m.head.classes !== m.classes.length) {
    throw new PackageError(`package ${dir}: manifest head.classes is ${m.head.classes} for ${m.classes.length} classes`);
  }
  for (const k of ['mean', 'std'] as const) {
    const v = m.input[k];
    if (Array.isArray(v) && v.length !== m.input.shape[0]) {
      throw new PackageError(`package ${dir}: manifest input.${k} has ${v.length} entries for ${m.input.shape[0]} channels`);
    }
  }
  if (m.head.inFeatures !== m.blocks[m.blocks.length - 1].outShape[0] * P) {
    throw new PackageError(`package ${dir}: manifest head.inFeatures does not match the last block x partitions`);
  }
  const segments = unitSegments(m);
  (m.onnx?.fused ?? []).forEach((f, j) => {
    if (!segments.some((s) => s.first === f.first && s.last === f.last && f.first < f.last)) {
      throw new PackageError(`package ${dir}: manifest onnx.fused.${j} (units ${f.first}..${f.last}) is not a run of units between this policy's exchange points (${segments.map((s) => `${s.first}..${s.last}`).join(', ')})`);
    }
  });
  const pkg: ModelPackage = {
    dir,
    manifest: m,
    stemPath: (i) => join(dir, `p${i}`, 'stem.onnx'),
    blockPath: (i, b) => join(dir, `p${i}`, `block${b}.onnx`),
    fusedPath: (i, f) => join(dir, `p${i}`, f),
    headPath: () => join(dir, 'head.onnx'),
    testVectorsPath: () => join(dir, 'testvectors.json'),
  };
  return pkg;
}

/** Checks that one partition's unit files are present (a partition loads only its own). */
export function checkPartitionFiles(pkg: ModelPackage, partition: number, opts: { fused?: boolean } = {}): void {
  if (partition < 0 || partition >= pkg.manifest.partitions) {
    throw new PackageError(`partition index ${partition} is outside 0..${pkg.manifest.partitions - 1}`);
  }
  const files = [pkg.stemPath(partition), ...pkg.manifest.blocks.map((b) => pkg.blockPath(partition, b.index)),
    ...(opts.fused ? (pkg.manifest.onnx?.fused ?? []).map((f) => pkg.fusedPath(partition, f.file)) : [])];
  for (const f of files) if (!existsSync(f)) throw new PackageError(`package ${pkg.dir}: unit ${f} is missing`);
}

export const catalogEntrySchema = z.object({
  name: z.string(), path: z.string(), partitions: z.number().int().positive(), policyId: z.string(),
  testAccuracy: z.number(), valAccuracy: z.number(), exchangedBytes: z.number().nonnegative(),
  reductionVsBaseline: z.number(), flopsPerPartition: z.number().nonnegative(),
}).passthrough();
export const catalogSchema = z.object({ dataset: z.string().optional(), packages: z.array(catalogEntrySchema) });
export type Catalog = z.infer<typeof catalogSchema>;
export type CatalogEntry = z.infer<typeof catalogEntrySchema>;

export const MODELS_DIR = repoPath('models') + '/';

/** The one catalog loader (CLI, planner, benchmarks): every error names the file and, for a bad field, the field. */
export function loadCatalog(path = join(MODELS_DIR, 'catalog.json')): Catalog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PackageError(`catalog ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new PackageError(`catalog ${path}: not JSON (${(e as Error).message})`);
  }
  const parsed = catalogSchema.safeParse(raw);
  if (!parsed.success) throw new PackageError(`catalog ${path}: ${formatZod(parsed.error)}`);
  return parsed.data;
}

/** A package by name (looked up in the models directory, default models/) or by directory path. */
export function resolvePackageDir(nameOrDir: string, modelsDir = MODELS_DIR): string {
  if (existsSync(join(nameOrDir, 'manifest.json'))) return resolve(nameOrDir);
  const dir = join(modelsDir, nameOrDir);
  if (existsSync(join(dir, 'manifest.json'))) return resolve(dir);
  throw new PackageError(`package ${nameOrDir}: not a package directory nor a package in ${modelsDir}`);
}
