import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';

/**
 * One process's TLS identity (DESIGN: only members of the plan may push activations).
 * cert/key: this process's certificate chain and private key (PEM files), presented as the server certificate and,
 * when dialling partitions, as the client certificate. ca: the cluster CA (PEM) that verifies peers in both
 * directions. requireClientCert: the server refuses any client without a certificate signed by `ca` (mTLS).
 * serverName: the name expected in peers' certificates when it is not the dialled host (one shared cluster cert).
 */
export interface TlsFiles {
  cert?: string;
  key?: string;
  ca?: string;
  requireClientCert: boolean;
  serverName?: string;
}

/** Loaded PEM material; never logged (describeTls says what is configured without any contents or paths). */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  requireClientCert: boolean;
  serverName?: string;
}

export const TLS_FLAGS = {
  'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'tls-ca': { type: 'string' },
  'tls-require-client-cert': { type: 'string' }, 'tls-server-name': { type: 'string' },
} as const;

const flagToEnv: Record<keyof typeof TLS_FLAGS, string> = {
  'tls-cert': 'EDGESPLIT_TLS_CERT', 'tls-key': 'EDGESPLIT_TLS_KEY', 'tls-ca': 'EDGESPLIT_TLS_CA',
  'tls-require-client-cert': 'EDGESPLIT_TLS_REQUIRE_CLIENT_CERT', 'tls-server-name': 'EDGESPLIT_TLS_SERVER_NAME',
};

export class TlsConfigError extends Error {
  constructor(readonly flag: string, detail: string) {
    super(`${flag}: ${detail}`);
    this.name = 'TlsConfigError';
  }
}

const boolish = z.union([z.boolean(), z.string()]).optional().transform((v, ctx) => {
  if (v === undefined || v === '' || v === false) return false;
  if (v === true || /^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  ctx.addIssue({ code: 'custom', message: `expected true or false, got '${v}'` });
  return false;
});

/** Flags (already parsed, kebab names) win over EDGESPLIT_TLS_* variables. */
export function tlsFilesFrom(values: Record<string, unknown>, env: NodeJS.ProcessEnv): TlsFiles {
  const pick = (f: keyof typeof TLS_FLAGS): string | undefined => {
    const v = values[f] ?? env[flagToEnv[f]];
    return v === undefined || v === '' ? undefined : String(v);
  };
  const req = boolish.safeParse(pick('tls-require-client-cert'));
  if (!req.success) throw new TlsConfigError('--tls-require-client-cert', req.error.issues[0].message);
  const files: TlsFiles = { cert: pick('tls-cert'), key: pick('tls-key'), ca: pick('tls-ca'),
    requireClientCert: req.data, serverName: pick('tls-server-name') };
  if ((files.cert === undefined) !== (files.key === undefined)) {
    throw new TlsConfigError(files.cert === undefined ? '--tls-cert' : '--tls-key', 'set --tls-cert and --tls-key together');
  }
  if (files.requireClientCert && (files.cert === undefined || files.ca === undefined)) {
    throw new TlsConfigError('--tls-require-client-cert', 'needs --tls-cert, --tls-key and --tls-ca (the CA that signs client certificates)');
  }
  if (files.ca !== undefined && files.cert === undefined) {
    throw new TlsConfigError('--tls-ca', 'needs --tls-cert and --tls-key (TLS is on only with an identity)');
  }
  return files;
}

/** Reads the PEM files once at start-up; undefined when TLS is off. Errors name the flag, never the contents. */
export function loadTls(files: TlsFiles): TlsMaterial | undefined {
  if (files.cert === undefined || files.key === undefined) return undefined;
  const read = (flag: string, path: string): Buffer => {
    let b: Buffer;
    try {
      b = readFileSync(path);
    } catch (e) {
      throw new TlsConfigError(flag, `cannot read the file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (!b.includes('-----BEGIN')) throw new TlsConfigError(flag, 'the file is not PEM');
    // Otherwise OpenSSL's own error ("PEM routines::no start line") would name neither the flag nor the file.
    if (flag === '--tls-key' ? !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(b.toString('latin1')) : !b.includes('-----BEGIN CERTIFICATE-----')) {
      throw new TlsConfigError(flag, flag === '--tls-key' ? 'the file holds no PEM private key' : 'the file holds no PEM certificate');
    }
    return b;
  };
  return { cert: read('--tls-cert', files.cert), key: read('--tls-key', files.key),
    ca: files.ca === undefined ? undefined : read('--tls-ca', files.ca), requireClientCert: files.requireClientCert,
    serverName: files.serverName };
}

/** For ready lines and logs: what is on, no paths or contents. */
export function describeTls(t: TlsMaterial | undefined): string {
  if (!t) return 'off';
  return t.requireClientCert ? 'mtls' : 'tls';
}

export function serverCredentials(t: TlsMaterial | undefined): grpc.ServerCredentials {
  if (!t) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(t.ca ?? null, [{ cert_chain: t.cert, private_key: t.key }], t.requireClientCert);
}

/** Client side of a member: verifies the server with the cluster CA and presents its own certificate. */
export function channelCredentials(t: TlsMaterial | undefined): grpc.ChannelCredentials {
  if (!t) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(t.ca ?? null, t.key, t.cert);
}

/** Channel options that go with channelCredentials (the expected name in the peer's certificate). */
export function channelTlsOptions(t: TlsMaterial | undefined): grpc.ChannelOptions {
  return t?.serverName ? { 'grpc.ssl_target_name_override': t.serverName, 'grpc.default_authority': t.serverName } : {};
}

/**
 * Reconnect quickly after a peer restarts: grpc-js backs off up to 120 s by default, which would keep a
 * restarted partition out of the plan for minutes.
 */
export const RECONNECT_OPTIONS: grpc.ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
};
