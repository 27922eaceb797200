import * as grpc from '@grpc/grpc-js';
import { toGrpcStatus } from '../../runtime/errors.ts';
import { loadProto } from '../../runtime/proto.ts';
import type { ProtoGrpcType } from '../../runtime/generated/planner.ts';
import type { PlannerHandlers } from '../../runtime/generated/edgesplit/v1/Planner.ts';
import type { Objective } from './core/types.ts';
import { objectiveOf } from './core/objective.ts';
import type { PlannerService } from './planner-service.ts';
import { parsePlan, serializePlan, type Plan } from '../../runtime/plan.ts';
import { createRoleServer, type RoleServer } from '../../runtime/role-server.ts';
import type { TlsMaterial } from '../../runtime/tls.ts';
import { plannerRpcHooks } from './telemetry.ts';

export interface ServerDeps {
  planner: PlannerService;
  /** undefined: plaintext. */
  tls?: TlsMaterial;
}

/** The request's objective (proto3: 0 = not given); undefined keeps the planner's own. */
export function objectiveFrom(req: { accuracyFloor?: number; sloMs?: number }): Objective | undefined {
  if (!req.accuracyFloor && !req.sloMs) return undefined;
  return objectiveOf(req, { accuracyFloor: 'accuracy_floor', sloMs: 'slo_ms' });
}

function parsePlanJson(text: string): Plan {
  return parsePlan(text, 'plan_json');
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
        planJson: serializePlan(doc), package: doc.package, partitions: doc.partitions, policyId: doc.policyId,
        predictedLatencyMs: doc.predicted.latencyMs, explanation: doc.explanation, planHash: doc.planHash,
      };
    }),
    Apply: unary(async (req) => {
      const r = await p.apply(req.planJson ? parsePlanJson(req.planJson) : undefined, objectiveFrom(req));
      return { planJson: serializePlan(r.doc), planHash: r.hash, applied: r.applied, deleted: r.deleted };
    }),
    GetPlan: unary(async () => {
      const s = p.status();
      return {
        planJson: s.doc ? serializePlan(s.doc) : '', planHash: s.hash ?? '', lastReason: s.lastReason,
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
