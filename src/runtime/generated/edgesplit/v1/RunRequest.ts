// Original file: protos/edgesplit/v1/partition.proto

import type { Tensor as _edgesplit_v1_Tensor, Tensor__Output as _edgesplit_v1_Tensor__Output } from '../../edgesplit/v1/Tensor.ts';

export interface RunRequest {
  'requestId'?: (string);
  'images'?: (_edgesplit_v1_Tensor | null);
  'package'?: (string);
  'missingPartitions'?: (number)[];
  'timeoutMs'?: (number | string);
  'traceContext'?: ({[key: string]: string});
}

export interface RunRequest__Output {
  'requestId': (string);
  'images': (_edgesplit_v1_Tensor__Output | null);
  'package': (string);
  'missingPartitions': (number)[];
  'timeoutMs': (number);
  'traceContext': ({[key: string]: string});
}
