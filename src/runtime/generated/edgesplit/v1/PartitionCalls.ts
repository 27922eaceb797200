// Original file: protos/edgesplit/v1/router.proto

import type { Long } from '@grpc/proto-loader';

export interface PartitionCalls {
  'partition'?: (number);
  'count'?: (number | string | Long);
  'rttMsP50'?: (number | string);
  'runMsP50'?: (number | string);
  'overheadMsP50'?: (number | string);
}

export interface PartitionCalls__Output {
  'partition': (number);
  'count': (number);
  'rttMsP50': (number);
  'runMsP50': (number);
  'overheadMsP50': (number);
}
