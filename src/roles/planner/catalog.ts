// The catalog and its packages as planner models, through the runtime's own loaders (one manifest schema, one
// catalog schema): the planner plans exactly what the partitions will load.
import { dirname, join, resolve } from 'node:path';
import { FailedPreconditionError } from '../../runtime/errors.ts';
import { loadCatalog as readCatalog, loadPackage } from '../../runtime/manifest.ts';
import { packageModel } from './core/package-model.ts';
import type { PackageModel } from './core/types.ts';

export interface LoadedCatalog {
  /** Absolute path of the models directory (where package paths are relative to). */
  root: string;
  packages: PackageModel[];
}

export async function loadCatalog(catalogPath: string): Promise<LoadedCatalog> {
  const catalog = readCatalog(catalogPath);
  if (catalog.packages.length === 0) throw new FailedPreconditionError(`catalog ${catalogPath} lists no packages`);
  const root = resolve(dirname(catalogPath));
  const packages = catalog.packages.map((p) => packageModel({ ...loadPackage(join(root, p.path)).manifest, name: p.name }, p.path));
  return { root, packages };
}
