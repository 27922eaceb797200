// Original file: protos/edgesplit/v1/partition.proto

import type { Tensor as _edgesplit_v1_Tensor, Tensor__Output as _edgesplit_v1_Tensor__Output } from '../../edgesplit/v1/Tensor.ts';
import type { PointStat as _edgesplit_v1_PointStat, PointStat__Output as _edgesplit_v1_PointStat__Output } from '../../edgesplit/v1/PointStat.ts';

export interface RunResponse {
  'requestId'?: (string);
  'features'?: (_edgesplit_v1_Tensor | null);
  'computeMs'?: (number | string);
  'sent'?: (_edgesplit_v1_PointStat)[];
  'received'?: (_edgesplit_v1_PointStat)[];
  'missedPoints'?: (number)[];
}

export interface RunResponse__Output {
  'requestId': (string);
  'features': (_edgesplit_v1_Tensor__Output | null);
  'computeMs': (number);
  'sent': (_edgesplit_v1_PointStat__Output)[];
  'received': (_edgesplit_v1_PointStat__Output)[];
  'missedPoints': (number)[];
}
