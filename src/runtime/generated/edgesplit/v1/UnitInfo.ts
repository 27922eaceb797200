// Original file: protos/edgesplit/v1/partition.proto

import type { Long } from '@grpc/proto-loader';

export interface UnitInfo {
  'name'?: (string);
  'inShape'?: (number | string | Long)[];
  'outShape'?: (number | string | Long)[];
  'flops'?: (number | string | Long);
}

export interface UnitInfo__Output {
  'name': (string);
  'inShape': (number)[];
  'outShape': (number)[];
  'flops': (number);
}
