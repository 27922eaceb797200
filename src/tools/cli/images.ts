// Image files for `classify`: decoded and resized to the served model's input with sharp (libvips).
import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import { UsageError } from '../../runtime/errors.ts';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

/** The image files a list of paths names: files as given, folders' PNG/JPEG files (recursively, sorted). */
export function expandImagePaths(paths: readonly string[], flag: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (IMAGE_EXTENSIONS.has(extname(name).toLowerCase())) out.push(p);
    }
  };
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UsageError(flag, `${p}: no such file or folder`);
    }
    if (st.isDirectory()) {
      const before = out.length;
      walk(p);
      if (out.length === before) throw new UsageError(flag, `${p}: the folder holds no PNG or JPEG files`);
    } else out.push(p);
  }
  return out;
}

/**
 * Decodes each file and resizes it (stretching, bicubic, as training resizes) to one served image:
 * [H,W] grayscale for one channel, [H,W,C] sRGB channels last for C = 3; alpha is dropped.
 */
export async function loadImages(files: readonly string[], imageShape: readonly number[], flag: string): Promise<Uint8Array> {
  const [height, width, channels = 1] = imageShape;
  if (channels !== 1 && channels !== 3) throw new UsageError(flag, `the model takes ${channels}-channel images; only 1 (grayscale) or 3 (RGB) can be decoded`);
  const px = height * width * channels;
  const out = new Uint8Array(files.length * px);
  for (let i = 0; i < files.length; i++) {
    let img = sharp(files[i], { failOn: 'error' }).resize(width, height, { fit: 'fill', kernel: 'cubic' }).removeAlpha();
    img = channels === 1 ? img.greyscale() : img.toColourspace('srgb');
    let data: Buffer;
    try {
      ({ data } = await img.raw().toBuffer({ resolveWithObject: true }));
    } catch (e) {
      throw new UsageError(flag, `${files[i]}: cannot decode it as an image (${(e as Error).message.split('\n')[0]})`);
    }
    if (data.length !== px) throw new UsageError(flag, `${files[i]}: decoded to ${data.length} bytes, expected ${px}`);
    out.set(data, i * px);
  }
  return out;
}
