import * as grpc from '@grpc/grpc-js';
import { trace } from '@opentelemetry/api';
import { createRoleServer, type RoleServer } from '../../src/runtime/role-server.ts';

// A tiny JSON service: enough to see what the scaffold adds around any role's handlers.
const json = {
  requestSerialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  requestDeserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown,
  responseSerialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  responseDeserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown,
};
export const ECHO: grpc.ServiceDefinition = {
  Say: { path: '/test.v1.Echo/Say', requestStream: false, responseStream: false, originalName: 'say', ...json },
};

export function echoServer(opts: { maxMessageBytes?: number; telemetry?: boolean } = {}): { role: RoleServer; calls: () => number } {
  let calls = 0;
  const role = createRoleServer({ maxMessageBytes: opts.maxMessageBytes, services: [{
    definition: ECHO,
    handlers: { Say: (call: grpc.ServerUnaryCall<{ text: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      calls++;
      const n = calls;
      // After an await, as real handlers do: a span here must still be a child of the call's SERVER span.
      void new Promise((r) => setImmediate(r)).then(() => {
        trace.getTracer('test').startSpan('echo.inner').end();
        cb(null, { text: call.request.text, n });
      });
    } },
    ...(opts.telemetry ? { telemetry: { Say: { attributes: (r: { text: string }) => ({ 'test.text': r.text }),
      onResponse: (res: { n: number }, span) => span?.setAttribute('test.n', res.n) } } } : {}),
  }] });
  return { role, calls: () => calls };
}

export const EchoClient = grpc.makeGenericClientConstructor(ECHO, 'Echo');

export function say(client: grpc.Client, req: unknown): Promise<{ text: string; n: number }> {
  return new Promise((resolve, reject) => (client as unknown as { Say: (r: unknown, cb: (e: grpc.ServiceError | null, r: { text: string; n: number }) => void) => void })
    .Say(req, (e, r) => (e ? reject(e) : resolve(r))));
}

