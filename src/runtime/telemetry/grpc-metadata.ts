import type * as grpc from '@grpc/grpc-js';
import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api';

/** W3C traceparent/tracestate (and baggage) travel as ordinary gRPC metadata entries. */
export const metadataSetter: TextMapSetter<grpc.Metadata> = {
  set: (md, key, value) => md.set(key, value),
};

export const metadataGetter: TextMapGetter<grpc.Metadata> = {
  keys: (md) => Object.keys(md.getMap()),
  get: (md, key) => {
    const v = md.get(key);
    if (v.length === 0) return undefined;
    const s = v.map((x) => (typeof x === 'string' ? x : x.toString('utf8')));
    return s.length === 1 ? s[0] : s;
  },
};

/** '/pkg.Service/Method' -> ['pkg.Service', 'Method']. */
export function splitPath(path: string): [string, string] {
  const p = path.startsWith('/') ? path.slice(1) : path;
  const i = p.lastIndexOf('/');
  return i < 0 ? ['', p] : [p.slice(0, i), p.slice(i + 1)];
}
