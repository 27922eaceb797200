// Original file: protos/edgesplit/v1/partition.proto

import type { CallStatus as _edgesplit_v1_CallStatus, CallStatus__Output as _edgesplit_v1_CallStatus__Output } from '../../edgesplit/v1/CallStatus.ts';

export interface PushAck {
  'requestId'?: (string);
  'point'?: (number);
  'accepted'?: (boolean);
  'error'?: (_edgesplit_v1_CallStatus | null);
}

export interface PushAck__Output {
  'requestId': (string);
  'point': (number);
  'accepted': (boolean);
  'error': (_edgesplit_v1_CallStatus__Output | null);
}
