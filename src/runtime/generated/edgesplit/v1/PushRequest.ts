// Original file: protos/edgesplit/v1/partition.proto

import type { Tensor as _edgesplit_v1_Tensor, Tensor__Output as _edgesplit_v1_Tensor__Output } from '../../edgesplit/v1/Tensor.ts';

export interface PushRequest {
  'requestId'?: (string);
  'point'?: (number);
  'fromPartition'?: (number);
  'tensor'?: (_edgesplit_v1_Tensor | null);
  'package'?: (string);
  'timeoutMs'?: (number | string);
  'traceContext'?: ({[key: string]: string});
}

export interface PushRequest__Output {
  'requestId': (string);
  'point': (number);
  'fromPartition': (number);
  'tensor': (_edgesplit_v1_Tensor__Output | null);
  'package': (string);
  'timeoutMs': (number);
  'traceContext': ({[key: string]: string});
}
