// Original file: protos/edgesplit/v1/router.proto

import type { PartitionCalls as _edgesplit_v1_PartitionCalls, PartitionCalls__Output as _edgesplit_v1_PartitionCalls__Output } from '../../edgesplit/v1/PartitionCalls.ts';
import type { Long } from '@grpc/proto-loader';

export interface RouterLive {
  'windowS'?: (number | string);
  'planHash'?: (string);
  'requests'?: (number | string | Long);
  'requestMsP50'?: (number | string);
  'partitions'?: (_edgesplit_v1_PartitionCalls)[];
  'batches'?: (number | string | Long);
  'batchedRequests'?: (number | string | Long);
}

export interface RouterLive__Output {
  'windowS': (number);
  'planHash': (string);
  'requests': (number);
  'requestMsP50': (number);
  'partitions': (_edgesplit_v1_PartitionCalls__Output)[];
  'batches': (number);
  'batchedRequests': (number);
}
