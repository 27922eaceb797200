import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProtoGrpcType as PartitionProto } from './generated/partition.ts';
import type { ProtoGrpcType as InferenceProto } from './generated/grpc_predict_v2.ts';
import type { ProtoGrpcType as RouterProto } from './generated/router.ts';
import { repoPath } from './paths.ts';

export const PROTO_DIR = repoPath('protos') + '/';

/** The one set of loader options; scripts/gen-proto-types.mjs generates the types with the same file. */
export function loaderOptions(): protoLoader.Options {
  const opts = JSON.parse(readFileSync(join(PROTO_DIR, 'loader-options.json'), 'utf8'));
  // JSON holds the names; protobufjs compares against the constructors themselves (`enums === String`),
  // so the strings must be mapped back or enums arrive as numbers and int64 as Long objects.
  const ctor = (v: unknown): unknown => (v === 'String' ? String : v === 'Number' ? Number : v === 'Array' ? Array : v);
  const mapped = { ...opts, longs: ctor(opts.longs), enums: ctor(opts.enums), bytes: ctor(opts.bytes), includeDirs: [PROTO_DIR] };
  return mapped as protoLoader.Options;
}

const cache = new Map<string, grpc.GrpcObject>();

export function loadProto<T>(file: string): T {
  let pkg = cache.get(file);
  if (!pkg) {
    pkg = grpc.loadPackageDefinition(protoLoader.loadSync(join(PROTO_DIR, file), loaderOptions()));
    cache.set(file, pkg);
  }
  return pkg as unknown as T;
}

export const partitionProto = (): PartitionProto => loadProto<PartitionProto>('edgesplit/v1/partition.proto');
export const inferenceProto = (): InferenceProto => loadProto<InferenceProto>('inference/grpc_predict_v2.proto');
export const routerProto = (): RouterProto => loadProto<RouterProto>('edgesplit/v1/router.proto');

/** Proto files for gRPC server reflection. */
export function protoFiles(): string[] {
  return ['edgesplit/v1/partition.proto', 'edgesplit/v1/router.proto', 'inference/grpc_predict_v2.proto'].map((f) => join(PROTO_DIR, f));
}
