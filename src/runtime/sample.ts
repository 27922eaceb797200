import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { MODELS_DIR, type ModelPackage } from './manifest.ts';
import { PackageError } from './errors.ts';
import { imageInputOf, type ImageInput } from './image-input.ts';

export interface Sample {
  /** count x pixelsPerImage uint8, each image as served: [H,W] or [H,W,C] (channels last). */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  classes: string[];
  /** [H,W] or [H,W,C]. */
  imageShape: number[];
  pixelsPerImage: number;
}

// [H,W] for one channel, [H,W,C] for C > 1: the served layout without the batch.
const imageShape = z.union([z.tuple([z.number().int().positive(), z.number().int().positive()]),
  z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().min(2)])]);

const sampleSchema = z.object({ count: z.number().int().positive(), imageShape,
  images: z.string(), labels: z.string(), classes: z.array(z.string()).min(2) }).passthrough();

const product = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** The ImageInput a sample's or test vectors' imageShape describes. */
export function imageInputOfShape(s: readonly number[]): ImageInput {
  return imageInputOf({ shape: [s[2] ?? 1, s[0], s[1]] });
}

/** The shipped 1,000-image slice of the test set (models/data, or `data/` beside a package's catalog). */
export function loadSample(dir = join(MODELS_DIR, 'data')): Sample {
  const parsed = sampleSchema.safeParse(JSON.parse(readFileSync(join(dir, 'sample.json'), 'utf8')));
  if (!parsed.success) throw new PackageError(`sample ${dir}/sample.json: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
  const meta = parsed.data;
  const px = product(meta.imageShape);
  const images = new Uint8Array(readFileSync(join(dir, meta.images)));
  const labels = new Uint8Array(readFileSync(join(dir, meta.labels)));
  if (images.length !== meta.count * px) throw new PackageError(`sample ${dir}: ${meta.images} has ${images.length} bytes, expected ${meta.count * px}`);
  if (labels.length !== meta.count) throw new PackageError(`sample ${dir}: ${meta.labels} has ${labels.length} labels, expected ${meta.count}`);
  return { images, labels, count: meta.count, classes: meta.classes, imageShape: [...meta.imageShape], pixelsPerImage: px };
}

/** The sample made with a package: `data/` in the models directory that holds it. */
export function sampleDirFor(pkg: ModelPackage): string {
  const own = join(dirname(pkg.dir), 'data');
  return existsSync(join(own, 'sample.json')) ? own : join(MODELS_DIR, 'data');
}

/** Images [from, to) of a sample (or any image buffer with `pixelsPerImage`). */
export function imagesOf(s: { images: Uint8Array; pixelsPerImage: number }, from: number, to: number): Uint8Array {
  return s.images.subarray(from * s.pixelsPerImage, to * s.pixelsPerImage);
}

export interface TestVectors {
  policyId: string;
  count: number;
  /** count x pixelsPerImage, as served. */
  images: Uint8Array;
  imageShape: number[];
  pixelsPerImage: number;
  labels: number[];
  /** [count][P][W3/P] */
  features: number[][][];
  /** [count][classes] */
  logits: number[][];
}

const vectorsSchema = z.object({ policyId: z.string(), count: z.number().int().positive(),
  imageShape, imagesBase64: z.string(), labels: z.array(z.number().int()),
  features: z.array(z.array(z.array(z.number()))), logits: z.array(z.array(z.number())) }).passthrough();

/** The package's PyTorch reference outputs for a few test images. */
export function loadTestVectors(pkg: ModelPackage): TestVectors {
  const path = pkg.testVectorsPath();
  const parsed = vectorsSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new PackageError(`${path}: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
  const v = parsed.data;
  const px = product(v.imageShape);
  const want = imageInputOf(pkg.manifest.input);
  if (px !== want.pixels) throw new PackageError(`${path}: imageShape [${v.imageShape.join(',')}] does not match the manifest's input [${pkg.manifest.input.shape.join(',')}]`);
  const images = new Uint8Array(Buffer.from(v.imagesBase64, 'base64'));
  if (images.length !== v.count * px) throw new PackageError(`${path}: imagesBase64 holds ${images.length} bytes, expected ${v.count * px}`);
  for (const [name, arr] of [['labels', v.labels], ['features', v.features], ['logits', v.logits]] as const) {
    if (arr.length !== v.count) throw new PackageError(`${path}: ${name} has ${arr.length} entries, expected ${v.count}`);
  }
  const k = pkg.manifest.classes.length;
  v.logits.forEach((l, i) => { if (l.length !== k) throw new PackageError(`${path}: logits.${i} has ${l.length} entries for ${k} classes`); });
  if (v.policyId !== pkg.manifest.policy.id) throw new PackageError(`${path}: policyId ${v.policyId} is not the manifest's ${pkg.manifest.policy.id}`);
  return { policyId: v.policyId, count: v.count, images, imageShape: [...v.imageShape], pixelsPerImage: px, labels: v.labels,
    features: v.features, logits: v.logits };
}
