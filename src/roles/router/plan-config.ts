import { resolve, sep } from 'node:path';
import { loadPackage, type ModelPackage } from '../../runtime/manifest.ts';
import { InvalidArgumentError } from '../../runtime/errors.ts';
import { peersOf, type Plan } from '../../runtime/plan.ts';
import type { RouterConfig } from './config.ts';

/**
 * The router's config for a new plan the watcher has parsed, built from that plan (the file is not read again): the
 * package and the partitions follow the plan when they came from the plan at start-up, and stay as given when they
 * were set by flag or variable (as loadConfig decides at start-up). Every other setting stays.
 * Where the package came from is seen in the config itself: a package taken from a plan lives at
 * <models dir>/<plan.packagePath>, so the next plan's package is <models dir>/<next.packagePath>.
 */
export function configForPlan(current: RouterConfig, next: Plan, source: string): RouterConfig {
  const was = current.plan;
  let pkg: ModelPackage = current.pkg;
  const dir = resolve(current.pkg.dir);
  const suffix = was ? sep + was.packagePath.split('/').join(sep) : undefined;
  if (suffix && dir.endsWith(suffix)) {
    const modelsDir = dir.slice(0, dir.length - suffix.length);
    pkg = loadPackage(resolve(modelsDir, next.packagePath));
  }
  const followsPartitions = was?.peers !== undefined && was.peers.join(',') === current.partitions.join(',');
  const partitions = followsPartitions ? peersOf(next, source) : current.partitions;
  const P = pkg.manifest.partitions;
  if (partitions.length !== P) {
    throw new InvalidArgumentError(`${source}: peers`, `package ${pkg.manifest.name} has ${P} partitions, got ${partitions.length} addresses`);
  }
  return { ...current, pkg, partitions, plan: next };
}
