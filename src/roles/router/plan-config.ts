import { resolve } from 'node:path';
import { loadPackage, resolvePackageDir, type ModelPackage } from '../../runtime/manifest.ts';
import { InvalidArgumentError } from '../../runtime/errors.ts';
import { peersOf, type Plan } from '../../runtime/plan.ts';
import type { RouterConfig, RouterServerConfig } from './config.ts';

/**
 * The router's config for a new plan the watcher has parsed, built from that plan (the file is not read again): the
 * package and the partitions follow the plan when they came from the plan at start-up (`follows`, decided by
 * loadConfig), and stay as given when they were set by flag or variable. Every other setting stays.
 */
export function configForPlan(current: RouterConfig, next: Plan, source: string): RouterConfig {
  const follows = current.follows ?? { package: false, partitions: false, modelsDir: '' };
  const pkg: ModelPackage = follows.package ? loadPackage(resolve(follows.modelsDir, next.packagePath)) : current.pkg;
  const partitions = follows.partitions ? peersOf(next, source) : current.partitions;
  const P = pkg.manifest.partitions;
  if (partitions.length !== P) {
    throw new InvalidArgumentError(`${source}: peers`, `package ${pkg.manifest.name} has ${P} partitions, got ${partitions.length} addresses`);
  }
  return { ...current, pkg, partitions, plan: next };
}

/**
 * The router's first config in planner mode when it started before the plan existed: the package and partitions
 * the plan names, unless they were given by flag or variable.
 */
export function configForFirstPlan(server: RouterServerConfig, plan: Plan, source: string): RouterConfig {
  const follows = server.follows ?? { package: true, partitions: true, modelsDir: '' };
  const pkg = follows.package || server.packageRef === undefined
    ? loadPackage(resolve(follows.modelsDir, plan.packagePath)) : loadPackage(resolvePackageDir(server.packageRef));
  const partitions = follows.partitions || !server.partitionsGiven ? peersOf(plan, source) : server.partitionsGiven;
  const P = pkg.manifest.partitions;
  if (partitions.length !== P) {
    throw new InvalidArgumentError(`${source}: peers`, `package ${pkg.manifest.name} has ${P} partitions, got ${partitions.length} addresses`);
  }
  const { packageRef: _ref, partitionsGiven: _given, ...rest } = server;
  return { ...rest, pkg, partitions, plan };
}
