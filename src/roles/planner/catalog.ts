// Reads models/catalog.json and each package's manifest into planner models.
// Only the fields the planner needs are validated here; the runtime's manifest
// loader checks the rest when a partition loads its units.
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { FailedPreconditionError, InvalidArgumentError } from '../../runtime/errors.ts';
import { packageModel } from './core/package-model.ts';
import type { PackageModel } from './core/types.ts';

const catalogSchema = z.object({
  packages: z.array(z.object({ name: z.string().min(1), path: z.string().min(1) }).passthrough()),
}).passthrough();

const manifestSchema = z.object({
  name: z.string(),
  partitions: z.number().int().positive(),
  stem: z.object({ flops: z.number().nonnegative(), paramBytes: z.number().nonnegative() }),
  blocks: z.array(z.object({
    index: z.number().int(), flops: z.number().nonnegative(), paramBytes: z.number().nonnegative(),
    outShape: z.array(z.number()),
  })).min(1),
  head: z.object({ flops: z.number().nonnegative(), inFeatures: z.number().int().positive() }),
  points: z.array(z.object({
    afterBlock: z.number().int(), channels: z.number().int().positive(),
    height: z.number().int().positive(), width: z.number().int().positive(),
  })),
  policy: z.object({
    id: z.string(),
    points: z.array(z.object({
      shift: z.number().int().nonnegative(), fraction: z.number().positive().max(1),
      precision: z.enum(['fp32', 'fp16', 'uint8']),
    })),
  }),
  metrics: z.object({ testAccuracy: z.number().min(0).max(1) }).passthrough(),
  input: z.object({ shape: z.array(z.number().int().positive()).length(3) }).passthrough(),
}).passthrough();

function describe(e: z.ZodError): string {
  const i = e.issues[0];
  return `${i.path.join('.') || '(root)'}: ${i.message}`;
}

export interface LoadedCatalog {
  /** Absolute path of the models directory (where package paths are relative to). */
  root: string;
  packages: PackageModel[];
}

export async function loadCatalog(catalogPath: string): Promise<LoadedCatalog> {
  let text: string;
  try {
    text = await readFile(catalogPath, 'utf8');
  } catch (e) {
    throw new FailedPreconditionError(`catalog ${catalogPath}: cannot read it (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InvalidArgumentError(catalogPath, `not JSON (${(e as Error).message})`);
  }
  const parsed = catalogSchema.safeParse(json);
  if (!parsed.success) throw new InvalidArgumentError(catalogPath, describe(parsed.error));
  if (parsed.data.packages.length === 0) throw new FailedPreconditionError(`catalog ${catalogPath} lists no packages`);
  const root = resolve(dirname(catalogPath));
  const packages = await Promise.all(parsed.data.packages.map(async (p) => {
    const file = join(root, p.path, 'manifest.json');
    let m: unknown;
    try {
      m = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      throw new FailedPreconditionError(`package ${p.name}: cannot read ${file} (${(e as Error).message})`);
    }
    const mp = manifestSchema.safeParse(m);
    if (!mp.success) throw new InvalidArgumentError(file, describe(mp.error));
    return packageModel({ ...mp.data, name: p.name }, p.path);
  }));
  return { root, packages };
}
