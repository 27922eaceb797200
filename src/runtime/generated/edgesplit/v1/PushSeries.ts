// Original file: protos/edgesplit/v1/partition.proto

import type { Long } from '@grpc/proto-loader';

export interface PushSeries {
  'peer'?: (number);
  'count'?: (number | string | Long);
  'bytesMean'?: (number | string);
  'transferMsP50'?: (number | string);
}

export interface PushSeries__Output {
  'peer': (number);
  'count': (number);
  'bytesMean': (number);
  'transferMsP50': (number);
}
