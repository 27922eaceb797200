import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { loaderOptions, protoFiles } from './proto.ts';

interface MessageDesc { name: string; field?: { name: string; typeName?: string }[]; nestedType?: MessageDesc[];
  options?: { mapEntry?: boolean } }
interface FileDesc { messageType?: MessageDesc[] }
const FileDescriptorProto = (descriptor as unknown as { FileDescriptorProto: {
  decode(b: Uint8Array): FileDesc; encode(m: FileDesc): { finish(): Uint8Array } } }).FileDescriptorProto;

/** protobuf's rule for a map field's entry type: `foo_bar` -> `FooBarEntry`. */
export function mapEntryName(field: string): string {
  return field.replace(/(^|_)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase()).replace(/^./, (c) => c.toUpperCase()) + 'Entry';
}

function fixMessage(m: MessageDesc): void {
  for (const nested of m.nestedType ?? []) {
    if (nested.options?.mapEntry) {
      const field = (m.field ?? []).find((f) => f.typeName === nested.name || f.typeName?.endsWith(`.${nested.name}`));
      if (field) {
        const name = mapEntryName(field.name);
        field.typeName = field.typeName!.slice(0, field.typeName!.length - nested.name.length) + name;
        nested.name = name;
      }
    }
    fixMessage(nested);
  }
}

/**
 * protobufjs names a map's entry type after the field ("Parameters", not "ParametersEntry"), which protobuf-go
 * clients such as grpcurl reject ("invalid map: incorrect implicit map entry name"; grpc/grpc-node reflection with
 * maps, fullstorydev/grpcurl#519). Rename the entries in the serialised descriptors.
 */
export function fixMapEntries(bin: Uint8Array): Buffer {
  const file = FileDescriptorProto.decode(bin);
  for (const m of file.messageType ?? []) fixMessage(m);
  return Buffer.from(FileDescriptorProto.encode(file).finish());
}

/**
 * Server reflection (v1 and v1alpha) over the edgesplit protos and grpc.health.v1, with the protos' own field names
 * (keepCase, so `grpcurl -d '{"model_name": ...}'` works) and map entries that protobuf-go accepts.
 */
export function addClientFriendlyReflection(server: Pick<grpc.Server, 'addService'>, files: string[] = protoFiles()): void {
  const def = protoLoader.loadSync([...files, healthProtoPath], { ...loaderOptions(), keepCase: true });
  const fixed = new Map<unknown, Buffer>();
  for (const entry of Object.values(def)) {
    const protos = (entry as { fileDescriptorProtos?: Buffer[] }).fileDescriptorProtos;
    if (!Array.isArray(protos)) continue;
    protos.forEach((b, i) => {
      if (!fixed.has(b)) fixed.set(b, fixMapEntries(b));
      protos[i] = fixed.get(b)!;
    });
  }
  new ReflectionService(def).addToServer(server);
}
