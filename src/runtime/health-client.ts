import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';

type CheckFn = (req: { service: string }, opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res?: { status: string }) => void) => grpc.ClientUnaryCall;
type HealthClient = grpc.Client & { check: CheckFn };
type HealthCtor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => HealthClient;

let ctor: HealthCtor | undefined;
function healthCtor(): HealthCtor {
  if (!ctor) {
    const def = protoLoader.loadSync(protoPath, { keepCase: true, enums: String, defaults: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: HealthCtor } } } };
    ctor = pkg.grpc.health.v1.Health;
  }
  return ctor;
}

/** A grpc.health.v1 client for one address; `check` resolves to the serving status, or the error's text. */
export class HealthChecker {
  private readonly client: HealthClient;
  constructor(readonly address: string, channel?: grpc.Channel,
    creds: grpc.ChannelCredentials = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}) {
    const Health = healthCtor();
    this.client = channel
      ? new Health(address, creds, { channelOverride: channel })
      : new Health(address, creds, options);
  }

  check(service: string, timeoutMs: number): Promise<string> {
    return new Promise((resolve) => {
      this.client.check({ service }, { deadline: Date.now() + timeoutMs }, (err, res) => {
        resolve(err ? `error: ${grpc.status[err.code] ?? err.code} ${err.details}` : (res?.status ?? 'UNKNOWN'));
      });
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Polls until `address` reports SERVING for `service`, or throws after `timeoutMs` with the last answer. */
export async function waitServing(address: string, service: string, timeoutMs: number,
  isAlive: () => boolean = () => true, creds?: grpc.ChannelCredentials, options?: grpc.ChannelOptions): Promise<void> {
  const hc = new HealthChecker(address, undefined, creds, options);
  const until = Date.now() + timeoutMs;
  let last = 'no answer';
  try {
    while (Date.now() < until) {
      if (!isAlive()) throw new Error(`${address}: the process exited before it was healthy (last health answer: ${last})`);
      last = await hc.check(service, Math.min(1000, Math.max(1, until - Date.now())));
      if (last === 'SERVING') return;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    hc.close();
  }
  throw new Error(`${address} not healthy after ${timeoutMs} ms (last health answer: ${last})`);
}
