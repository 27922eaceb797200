import { status as Status } from '@grpc/grpc-js';
import { EdgesplitError } from '../common/errors.ts';

/** A second push for the same (request, point), or a second Run with an id in flight: the first stands. */
export class AlreadyExistsError extends EdgesplitError {
  constructor(message: string) {
    super(message, Status.ALREADY_EXISTS);
  }
}

/** The caller went away (gRPC cancellation or an aborted signal). */
export class CancelledError extends EdgesplitError {
  constructor(message: string) {
    super(message, Status.CANCELLED);
  }
}
