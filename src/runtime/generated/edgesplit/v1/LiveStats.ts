// Original file: protos/edgesplit/v1/partition.proto

import type { PushSeries as _edgesplit_v1_PushSeries, PushSeries__Output as _edgesplit_v1_PushSeries__Output } from '../../edgesplit/v1/PushSeries.ts';
import type { Long } from '@grpc/proto-loader';

export interface LiveStats {
  'windowS'?: (number | string);
  'runs'?: (number | string | Long);
  'runMsP50'?: (number | string);
  'waitMsP50'?: (number | string);
  'computeMsP50'?: (number | string);
  'pushes'?: (_edgesplit_v1_PushSeries)[];
}

export interface LiveStats__Output {
  'windowS': (number);
  'runs': (number);
  'runMsP50': (number);
  'waitMsP50': (number);
  'computeMsP50': (number);
  'pushes': (_edgesplit_v1_PushSeries__Output)[];
}
