// Original file: protos/edgesplit/v1/partition.proto

import type { Long } from '@grpc/proto-loader';

export interface PointStat {
  'point'?: (number);
  'peer'?: (number);
  'bytes'?: (number | string | Long);
  'transferMs'?: (number | string);
  'merged'?: (boolean);
  'waitMs'?: (number | string);
}

export interface PointStat__Output {
  'point': (number);
  'peer': (number);
  'bytes': (number);
  'transferMs': (number);
  'merged': (boolean);
  'waitMs': (number);
}
