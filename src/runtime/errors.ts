import { status as Status, type ServiceError, Metadata } from '@grpc/grpc-js';

/** Base of every edgesplit error; `code` is the gRPC status it maps to. */
export class EdgesplitError extends Error {
  constructor(message: string, readonly code: Status) {
    super(message);
    this.name = new.target.name;
  }
}

/** Thrown when a request or file field is malformed; the message names the field. */
export class InvalidArgumentError extends EdgesplitError {
  constructor(readonly field: string, detail: string) {
    super(`${field}: ${detail}`, Status.INVALID_ARGUMENT);
  }
}

/**
 * Bad command-line or environment input, from any parser (roles' loadConfig, every CLI command): `field` names the
 * flag (--max-batch) or the variable (EDGESPLIT_MAX_BATCH) and the message says what is wrong. Commands recognise
 * it by type and exit with code 2.
 */
export class UsageError extends InvalidArgumentError {
  /** The flag or variable: the same as `field`. */
  get flag(): string {
    return this.field;
  }
}

/** A typed error class for one gRPC status: `class XError extends withStatus(Status.X) {}`. */
function withStatus(code: Status) {
  return class extends EdgesplitError {
    constructor(message: string) {
      super(message, code);
    }
  };
}

/** Thrown when a bounded resource (batch, message size, in-flight requests, buffers) is full. */
export class ResourceExhaustedError extends withStatus(Status.RESOURCE_EXHAUSTED) {}

/** Thrown when the system is not in a state to serve the call (wrong package, no plan, not ready). */
export class FailedPreconditionError extends withStatus(Status.FAILED_PRECONDITION) {}

/** Thrown when a named model, request or object does not exist. */
export class NotFoundError extends withStatus(Status.NOT_FOUND) {}

/** Thrown when a dependency (a partition, the API server) cannot be reached. */
export class UnavailableError extends withStatus(Status.UNAVAILABLE) {}

/** Thrown when the caller's deadline passes before the work is done. */
export class DeadlineExceededError extends withStatus(Status.DEADLINE_EXCEEDED) {}

/** Thrown on a second push for the same (request, point), or a second Run with an id in flight: the first stands. */
export class AlreadyExistsError extends withStatus(Status.ALREADY_EXISTS) {}

/** Thrown when the caller went away (gRPC cancellation or an aborted signal). */
export class CancelledError extends withStatus(Status.CANCELLED) {}

/** Thrown when a package on disk is unusable (bad manifest, missing unit): a deployment problem. */
export class PackageError extends withStatus(Status.FAILED_PRECONDITION) {}

function isServiceError(err: unknown): err is ServiceError {
  return typeof err === 'object' && err !== null && 'code' in err && 'details' in err && 'metadata' in err;
}

/** The one mapping from anything thrown to a gRPC status; unknown errors become INTERNAL. */
export function toGrpcStatus(err: unknown): { code: Status; details: string; metadata: Metadata } {
  if (err instanceof EdgesplitError) return { code: err.code, details: err.message, metadata: new Metadata() };
  if (isServiceError(err)) return { code: err.code, details: err.details, metadata: new Metadata() };
  const message = err instanceof Error ? err.message : String(err);
  return { code: Status.INTERNAL, details: `internal error: ${message}`, metadata: new Metadata() };
}
