// Original file: protos/edgesplit/v1/partition.proto

import type { CallStatus as _edgesplit_v1_CallStatus, CallStatus__Output as _edgesplit_v1_CallStatus__Output } from '../../edgesplit/v1/CallStatus.ts';
import type { RunResponse as _edgesplit_v1_RunResponse, RunResponse__Output as _edgesplit_v1_RunResponse__Output } from '../../edgesplit/v1/RunResponse.ts';

export interface RunResult {
  'requestId'?: (string);
  'error'?: (_edgesplit_v1_CallStatus | null);
  'response'?: (_edgesplit_v1_RunResponse | null);
}

export interface RunResult__Output {
  'requestId': (string);
  'error': (_edgesplit_v1_CallStatus__Output | null);
  'response': (_edgesplit_v1_RunResponse__Output | null);
}
