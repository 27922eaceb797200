import * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../../runtime/errors.ts';
import { toGrpcStatus } from '../../runtime/errors.ts';
import { loadProto } from '../../runtime/proto.ts';
import type { ProtoGrpcType } from '../../runtime/generated/planner.ts';
import type { PlannerHandlers } from '../../runtime/generated/edgesplit/v1/Planner.ts';
import type { Objective } from './core/types.ts';
import type { PlanDocument } from './plan-document.ts';
import type { PlannerService } from './planner-service.ts';
import { planHash } from './plan-document.ts';
import { createRoleServer, type RoleServer } from '../../runtime/role-server.ts';
import type { TlsMaterial } from '../../runtime/tls.ts';
import { plannerRpcHooks } from './telemetry.ts';

export interface ServerDeps {
  planner: PlannerService;
  /** undefined: plaintext. */
  tls?: TlsMaterial;
}

export function objectiveFrom(req: { accuracyFloor?: number; sloMs?: number }): Objective | undefined {
  const floor = req.accuracyFloor ?? 0;
  const slo = req.sloMs ?? 0;
  if (floor && slo) throw new InvalidArgumentError('accuracy_floor', 'give either accuracy_floor or slo_ms, not both');
  if (floor < 0 || floor > 1) throw new InvalidArgumentError('accuracy_floor', `must be within 0..1 (got ${floor})`);
  if (slo < 0) throw new InvalidArgumentError('slo_ms', `must be > 0 (got ${slo})`);
  if (floor) return { mode: 'latency', accuracyFloor: floor };
  if (slo) return { mode: 'slo', sloMs: slo };
  return undefined;
}

function parsePlanJson(text: string): PlanDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InvalidArgumentError('plan_json', `not JSON (${(e as Error).message})`);
  }
  const d = doc as PlanDocument;
  if (typeof d !== 'object' || d === null || typeof d.package !== 'string' || !Array.isArray(d.assignments)) {
    throw new InvalidArgumentError('plan_json', 'expected a plan document with "package" and "assignments"');
  }
  return d;
}

function unary<Req, Res>(f: (req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    f(call.request).then((r) => callback(null, r), (e) => callback(toGrpcStatus(e)));
  };
}

/**
 * The edgesplit.v1.Planner service on the shared role scaffold (limits, malformed-request guard, health, reflection,
 * telemetry); the caller binds it and sets it SERVING.
 */
export function createServer(deps: ServerDeps): RoleServer {
  const proto = loadProto<ProtoGrpcType>('edgesplit/v1/planner.proto');
  const p = deps.planner;
  const handlers: PlannerHandlers = {
    Plan: unary(async (req) => {
      const doc = await p.plan(req.clusterYaml ? req.clusterYaml : undefined, objectiveFrom(req));
      return {
        planJson: JSON.stringify(doc), package: doc.package, partitions: doc.partitions, policyId: doc.policyId,
        predictedLatencyMs: doc.predicted.latencyMs, explanation: doc.explanation, planHash: planHash(doc),
      };
    }),
    Apply: unary(async (req) => {
      const r = await p.apply(req.planJson ? parsePlanJson(req.planJson) : undefined, objectiveFrom(req));
      return { planJson: JSON.stringify(r.doc), planHash: r.hash, applied: r.applied, deleted: r.deleted };
    }),
    GetPlan: unary(async () => {
      const s = p.status();
      return {
        planJson: s.doc ? JSON.stringify(s.doc) : '', planHash: s.hash ?? '', lastReason: s.lastReason,
        lastError: s.lastError, updatedAt: s.updatedAt?.toISOString() ?? '',
      };
    }),
    ListNodes: unary(async () => {
      const doc = p.status().doc;
      return {
        nodes: p.nodes().map((r) => ({
          name: r.name, ready: r.ready, gflops: r.spec.gflops, bandwidthMbps: r.spec.bandwidthMbps, latencyMs: r.spec.latencyMs,
          memoryMib: r.spec.memoryMiB ?? 0, defaulted: r.defaulted,
          partitions: (doc?.assignments ?? []).filter((a) => a.node === r.name).map((a) => a.partition),
        })),
      };
    }),
  };
  return createRoleServer({ tls: deps.tls, services: [{ definition: proto.edgesplit.v1.Planner.service,
    handlers: handlers as grpc.UntypedServiceImplementation, telemetry: plannerRpcHooks() }] });
}
