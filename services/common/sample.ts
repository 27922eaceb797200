import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { MODELS_DIR, type ModelPackage } from './manifest.ts';
import { PackageError } from './errors.ts';

const PIXELS = 28 * 28;

export interface Sample {
  images: Uint8Array; // count x 784, row-major
  labels: Uint8Array;
  count: number;
  classes: string[];
}

const sampleSchema = z.object({ count: z.number().int().positive(), imageShape: z.tuple([z.literal(28), z.literal(28)]),
  images: z.string(), labels: z.string(), classes: z.array(z.string()).length(10) }).passthrough();

/** The shipped 1,000-image slice of the Fashion-MNIST test set (models/data). */
export function loadSample(dir = join(MODELS_DIR, 'data')): Sample {
  const parsed = sampleSchema.safeParse(JSON.parse(readFileSync(join(dir, 'sample.json'), 'utf8')));
  if (!parsed.success) throw new PackageError(`sample ${dir}/sample.json: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
  const meta = parsed.data;
  const images = new Uint8Array(readFileSync(join(dir, meta.images)));
  const labels = new Uint8Array(readFileSync(join(dir, meta.labels)));
  if (images.length !== meta.count * PIXELS) throw new PackageError(`sample ${dir}: ${meta.images} has ${images.length} bytes, expected ${meta.count * PIXELS}`);
  if (labels.length !== meta.count) throw new PackageError(`sample ${dir}: ${meta.labels} has ${labels.length} labels, expected ${meta.count}`);
  return { images, labels, count: meta.count, classes: meta.classes };
}

export interface TestVectors {
  policyId: string;
  count: number;
  images: Uint8Array; // count x 784
  labels: number[];
  /** [count][P][W3/P] */
  features: number[][][];
  /** [count][10] */
  logits: number[][];
}

const vectorsSchema = z.object({ policyId: z.string(), count: z.number().int().positive(),
  imageShape: z.tuple([z.literal(28), z.literal(28)]), imagesBase64: z.string(), labels: z.array(z.number().int()),
  features: z.array(z.array(z.array(z.number()))), logits: z.array(z.array(z.number()).length(10)) }).passthrough();

/** The package's PyTorch reference outputs for a few test images. */
export function loadTestVectors(pkg: ModelPackage): TestVectors {
  const path = pkg.testVectorsPath();
  const parsed = vectorsSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new PackageError(`${path}: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
  const v = parsed.data;
  const images = new Uint8Array(Buffer.from(v.imagesBase64, 'base64'));
  if (images.length !== v.count * PIXELS) throw new PackageError(`${path}: imagesBase64 holds ${images.length} bytes, expected ${v.count * PIXELS}`);
  for (const [name, arr] of [['labels', v.labels], ['features', v.features], ['logits', v.logits]] as const) {
    if (arr.length !== v.count) throw new PackageError(`${path}: ${name} has ${arr.length} entries, expected ${v.count}`);
  }
  if (v.policyId !== pkg.manifest.policy.id) throw new PackageError(`${path}: policyId ${v.policyId} is not the manifest's ${pkg.manifest.policy.id}`);
  return { policyId: v.policyId, count: v.count, images, labels: v.labels, features: v.features, logits: v.logits };
}
