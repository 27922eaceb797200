// Original file: protos/edgesplit/v1/planner.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ApplyRequest as _edgesplit_v1_ApplyRequest, ApplyRequest__Output as _edgesplit_v1_ApplyRequest__Output } from '../../edgesplit/v1/ApplyRequest.ts';
import type { ApplyResponse as _edgesplit_v1_ApplyResponse, ApplyResponse__Output as _edgesplit_v1_ApplyResponse__Output } from '../../edgesplit/v1/ApplyResponse.ts';
import type { GetPlanRequest as _edgesplit_v1_GetPlanRequest, GetPlanRequest__Output as _edgesplit_v1_GetPlanRequest__Output } from '../../edgesplit/v1/GetPlanRequest.ts';
import type { GetPlanResponse as _edgesplit_v1_GetPlanResponse, GetPlanResponse__Output as _edgesplit_v1_GetPlanResponse__Output } from '../../edgesplit/v1/GetPlanResponse.ts';
import type { ListNodesRequest as _edgesplit_v1_ListNodesRequest, ListNodesRequest__Output as _edgesplit_v1_ListNodesRequest__Output } from '../../edgesplit/v1/ListNodesRequest.ts';
import type { ListNodesResponse as _edgesplit_v1_ListNodesResponse, ListNodesResponse__Output as _edgesplit_v1_ListNodesResponse__Output } from '../../edgesplit/v1/ListNodesResponse.ts';
import type { PlanRequest as _edgesplit_v1_PlanRequest, PlanRequest__Output as _edgesplit_v1_PlanRequest__Output } from '../../edgesplit/v1/PlanRequest.ts';
import type { PlanResponse as _edgesplit_v1_PlanResponse, PlanResponse__Output as _edgesplit_v1_PlanResponse__Output } from '../../edgesplit/v1/PlanResponse.ts';

export interface PlannerClient extends grpc.Client {
  Apply(argument: _edgesplit_v1_ApplyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  Apply(argument: _edgesplit_v1_ApplyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesplit_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  Apply(argument: _edgesplit_v1_ApplyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  Apply(argument: _edgesplit_v1_ApplyRequest, callback: grpc.requestCallback<_edgesplit_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  apply(argument: _edgesplit_v1_ApplyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  apply(argument: _edgesplit_v1_ApplyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesplit_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  apply(argument: _edgesplit_v1_ApplyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  apply(argument: _edgesplit_v1_ApplyRequest, callback: grpc.requestCallback<_edgesplit_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  
  GetPlan(argument: _edgesplit_v1_GetPlanRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_GetPlanResponse__Output>): grpc.ClientUnaryCall;
  GetPlan(argument: _edgesplit_v1_GetPlanRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesplit_v1_GetPlanResponse__Output>): grpc.ClientUnaryCall;
  GetPlan(argument: _edgesplit_v1_GetPlanRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_GetPlanResponse__Output>): grpc.ClientUnaryCall;
  GetPlan(argument: _edgesplit_v1_GetPlanRequest, callback: grpc.requestCallback<_edgesplit_v1_GetPlanResponse__Output>): grpc.ClientUnaryCall;
  getPlan(argument: _edgesplit_v1_GetPlanRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_GetPlanResponse__Output>): grpc.ClientUnaryCall;
  getPlan(argument: _edgesplit_v1_GetPlanRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesplit_v1_GetPlanResponse__Output>): grpc.ClientUnaryCall;
  getPlan(argument: _edgesplit_v1_GetPlanRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_GetPlanResponse__Output>): grpc.ClientUnaryCall;
  getPlan(argument: _edgesplit_v1_GetPlanRequest, callback: grpc.requestCallback<_edgesplit_v1_GetPlanResponse__Output>): grpc.ClientUnaryCall;
  
  ListNodes(argument: _edgesplit_v1_ListNodesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  ListNodes(argument: _edgesplit_v1_ListNodesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesplit_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  ListNodes(argument: _edgesplit_v1_ListNodesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  ListNodes(argument: _edgesplit_v1_ListNodesRequest, callback: grpc.requestCallback<_edgesplit_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  listNodes(argument: _edgesplit_v1_ListNodesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  listNodes(argument: _edgesplit_v1_ListNodesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesplit_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  listNodes(argument: _edgesplit_v1_ListNodesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  listNodes(argument: _edgesplit_v1_ListNodesRequest, callback: grpc.requestCallback<_edgesplit_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  
  Plan(argument: _edgesplit_v1_PlanRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_PlanResponse__Output>): grpc.ClientUnaryCall;
  Plan(argument: _edgesplit_v1_PlanRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesplit_v1_PlanResponse__Output>): grpc.ClientUnaryCall;
  Plan(argument: _edgesplit_v1_PlanRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_PlanResponse__Output>): grpc.ClientUnaryCall;
  Plan(argument: _edgesplit_v1_PlanRequest, callback: grpc.requestCallback<_edgesplit_v1_PlanResponse__Output>): grpc.ClientUnaryCall;
  plan(argument: _edgesplit_v1_PlanRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_PlanResponse__Output>): grpc.ClientUnaryCall;
  plan(argument: _edgesplit_v1_PlanRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesplit_v1_PlanResponse__Output>): grpc.ClientUnaryCall;
  plan(argument: _edgesplit_v1_PlanRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_PlanResponse__Output>): grpc.ClientUnaryCall;
  plan(argument: _edgesplit_v1_PlanRequest, callback: grpc.requestCallback<_edgesplit_v1_PlanResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface PlannerHandlers extends grpc.UntypedServiceImplementation {
  Apply: grpc.handleUnaryCall<_edgesplit_v1_ApplyRequest__Output, _edgesplit_v1_ApplyResponse>;
  
  GetPlan: grpc.handleUnaryCall<_edgesplit_v1_GetPlanRequest__Output, _edgesplit_v1_GetPlanResponse>;
  
  ListNodes: grpc.handleUnaryCall<_edgesplit_v1_ListNodesRequest__Output, _edgesplit_v1_ListNodesResponse>;
  
  Plan: grpc.handleUnaryCall<_edgesplit_v1_PlanRequest__Output, _edgesplit_v1_PlanResponse>;
  
}

export interface PlannerDefinition extends grpc.ServiceDefinition {
  Apply: MethodDefinition<_edgesplit_v1_ApplyRequest, _edgesplit_v1_ApplyResponse, _edgesplit_v1_ApplyRequest__Output, _edgesplit_v1_ApplyResponse__Output>
  GetPlan: MethodDefinition<_edgesplit_v1_GetPlanRequest, _edgesplit_v1_GetPlanResponse, _edgesplit_v1_GetPlanRequest__Output, _edgesplit_v1_GetPlanResponse__Output>
  ListNodes: MethodDefinition<_edgesplit_v1_ListNodesRequest, _edgesplit_v1_ListNodesResponse, _edgesplit_v1_ListNodesRequest__Output, _edgesplit_v1_ListNodesResponse__Output>
  Plan: MethodDefinition<_edgesplit_v1_PlanRequest, _edgesplit_v1_PlanResponse, _edgesplit_v1_PlanRequest__Output, _edgesplit_v1_PlanResponse__Output>
}
