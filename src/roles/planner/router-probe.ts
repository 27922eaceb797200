// How the planner learns that the router serves a new plan before it removes the old plan's partitions. The router
// registers the grpc.health.v1 service `edgesplit.plan.<planHash>` and answers SERVING once it has switched.
import { HealthChecker } from '../../runtime/health-client.ts';
import { sleep } from './k8s/reconcile.ts';

export interface RouterProbe {
  /** Resolves true once the router serves plan `hash`, false when timeoutMs passed (or signal aborted) without that. */
  waitServes(hash: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  close?(): void;
}

export const planHealthService = (hash: string) => `edgesplit.plan.${hash}`;

/**
 * No way to ask the router (no address, or TLS, where the planner has no client certificate for it): wait the whole
 * grace, long enough for the kubelet's ConfigMap volume sync (up to about a minute) and the router's drain.
 */
export class GraceDelayProbe implements RouterProbe {
  async waitServes(_hash: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    await sleep(timeoutMs, signal);
    return false;
  }
}

/** Health-checks the router's Service address until it reports the plan's service SERVING. */
export class HealthRouterProbe implements RouterProbe {
  private readonly hc: HealthChecker;

  constructor(readonly address: string, private readonly pollMs = 1000) {
    this.hc = new HealthChecker(address);
  }

  async waitServes(hash: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!signal?.aborted) {
      const left = end - Date.now();
      if (left <= 0) return false;
      // NOT_FOUND (a router that has not loaded the plan, or an older router) and UNAVAILABLE both mean: not yet.
      if (await this.hc.check(planHealthService(hash), Math.min(2000, left)) === 'SERVING') return true;
      await sleep(Math.min(this.pollMs, Math.max(0, end - Date.now())), signal);
    }
    return false;
  }

  close(): void {
    this.hc.close();
  }
}
