import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ApplyRequest as _edgesplit_v1_ApplyRequest, ApplyRequest__Output as _edgesplit_v1_ApplyRequest__Output } from './edgesplit/v1/ApplyRequest.ts';
import type { ApplyResponse as _edgesplit_v1_ApplyResponse, ApplyResponse__Output as _edgesplit_v1_ApplyResponse__Output } from './edgesplit/v1/ApplyResponse.ts';
import type { GetPlanRequest as _edgesplit_v1_GetPlanRequest, GetPlanRequest__Output as _edgesplit_v1_GetPlanRequest__Output } from './edgesplit/v1/GetPlanRequest.ts';
import type { GetPlanResponse as _edgesplit_v1_GetPlanResponse, GetPlanResponse__Output as _edgesplit_v1_GetPlanResponse__Output } from './edgesplit/v1/GetPlanResponse.ts';
import type { ListNodesRequest as _edgesplit_v1_ListNodesRequest, ListNodesRequest__Output as _edgesplit_v1_ListNodesRequest__Output } from './edgesplit/v1/ListNodesRequest.ts';
import type { ListNodesResponse as _edgesplit_v1_ListNodesResponse, ListNodesResponse__Output as _edgesplit_v1_ListNodesResponse__Output } from './edgesplit/v1/ListNodesResponse.ts';
import type { NodeInfo as _edgesplit_v1_NodeInfo, NodeInfo__Output as _edgesplit_v1_NodeInfo__Output } from './edgesplit/v1/NodeInfo.ts';
import type { PlanRequest as _edgesplit_v1_PlanRequest, PlanRequest__Output as _edgesplit_v1_PlanRequest__Output } from './edgesplit/v1/PlanRequest.ts';
import type { PlanResponse as _edgesplit_v1_PlanResponse, PlanResponse__Output as _edgesplit_v1_PlanResponse__Output } from './edgesplit/v1/PlanResponse.ts';
import type { PlannerClient as _edgesplit_v1_PlannerClient, PlannerDefinition as _edgesplit_v1_PlannerDefinition } from './edgesplit/v1/Planner.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  edgesplit: {
    v1: {
      ApplyRequest: MessageTypeDefinition<_edgesplit_v1_ApplyRequest, _edgesplit_v1_ApplyRequest__Output>
      ApplyResponse: MessageTypeDefinition<_edgesplit_v1_ApplyResponse, _edgesplit_v1_ApplyResponse__Output>
      GetPlanRequest: MessageTypeDefinition<_edgesplit_v1_GetPlanRequest, _edgesplit_v1_GetPlanRequest__Output>
      GetPlanResponse: MessageTypeDefinition<_edgesplit_v1_GetPlanResponse, _edgesplit_v1_GetPlanResponse__Output>
      ListNodesRequest: MessageTypeDefinition<_edgesplit_v1_ListNodesRequest, _edgesplit_v1_ListNodesRequest__Output>
      ListNodesResponse: MessageTypeDefinition<_edgesplit_v1_ListNodesResponse, _edgesplit_v1_ListNodesResponse__Output>
      NodeInfo: MessageTypeDefinition<_edgesplit_v1_NodeInfo, _edgesplit_v1_NodeInfo__Output>
      PlanRequest: MessageTypeDefinition<_edgesplit_v1_PlanRequest, _edgesplit_v1_PlanRequest__Output>
      PlanResponse: MessageTypeDefinition<_edgesplit_v1_PlanResponse, _edgesplit_v1_PlanResponse__Output>
      Planner: SubtypeConstructor<typeof grpc.Client, _edgesplit_v1_PlannerClient> & { service: _edgesplit_v1_PlannerDefinition }
    }
  }
}

