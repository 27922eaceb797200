// Settings and value schemas that several commands share, so they read and document them the same way.
import { z } from 'zod';
import type { Settings } from '../../../runtime/config.ts';

/** --package and --models-dir: which package, from which models folder (src/tools/cli/stack.ts resolvePackageFlag). */
export const PACKAGE_SETTINGS = {
  package: { flag: 'package', arg: 'NAME|DIR', description: "a package name in the models folder or a package directory (default: the catalog's demo package)" },
  modelsDir: { flag: 'models-dir', arg: 'DIR', description: 'a models folder with a catalog.json (default: the shipped models/)' },
} satisfies Settings;

/** A switch (kind 'switch'): given reads as true. */
export const switchValue = z.string().optional().transform((v) => v === 'true');

/** An integer within min..max, from its text. */
export const intValue = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.string().regex(/^-?\d+$/, 'expected an integer').transform(Number).pipe(z.number().min(min).max(max));
