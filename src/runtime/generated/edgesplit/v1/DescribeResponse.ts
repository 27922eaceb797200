// Original file: protos/edgesplit/v1/partition.proto

import type { UnitInfo as _edgesplit_v1_UnitInfo, UnitInfo__Output as _edgesplit_v1_UnitInfo__Output } from '../../edgesplit/v1/UnitInfo.ts';
import type { LiveStats as _edgesplit_v1_LiveStats, LiveStats__Output as _edgesplit_v1_LiveStats__Output } from '../../edgesplit/v1/LiveStats.ts';
import type { Long } from '@grpc/proto-loader';

export interface DescribeResponse {
  'index'?: (number);
  'partitions'?: (number);
  'package'?: (string);
  'policyId'?: (string);
  'units'?: (_edgesplit_v1_UnitInfo)[];
  'gflops'?: (number | string);
  'perCallOverheadMs'?: (number | string);
  'peers'?: (string)[];
  'requestsInFlight'?: (number | string | Long);
  'pushesDropped'?: (number | string | Long);
  'live'?: (_edgesplit_v1_LiveStats | null);
}

export interface DescribeResponse__Output {
  'index': (number);
  'partitions': (number);
  'package': (string);
  'policyId': (string);
  'units': (_edgesplit_v1_UnitInfo__Output)[];
  'gflops': (number);
  'perCallOverheadMs': (number);
  'peers': (string)[];
  'requestsInFlight': (number);
  'pushesDropped': (number);
  'live': (_edgesplit_v1_LiveStats__Output | null);
}
