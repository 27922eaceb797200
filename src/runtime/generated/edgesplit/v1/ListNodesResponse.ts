// Original file: protos/edgesplit/v1/planner.proto

import type { NodeInfo as _edgesplit_v1_NodeInfo, NodeInfo__Output as _edgesplit_v1_NodeInfo__Output } from '../../edgesplit/v1/NodeInfo.ts';

export interface ListNodesResponse {
  'nodes'?: (_edgesplit_v1_NodeInfo)[];
}

export interface ListNodesResponse__Output {
  'nodes': (_edgesplit_v1_NodeInfo__Output)[];
}
