// Original file: protos/edgesplit/v1/partition.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DescribeRequest as _edgesplit_v1_DescribeRequest, DescribeRequest__Output as _edgesplit_v1_DescribeRequest__Output } from '../../edgesplit/v1/DescribeRequest.ts';
import type { DescribeResponse as _edgesplit_v1_DescribeResponse, DescribeResponse__Output as _edgesplit_v1_DescribeResponse__Output } from '../../edgesplit/v1/DescribeResponse.ts';
import type { PushRequest as _edgesplit_v1_PushRequest, PushRequest__Output as _edgesplit_v1_PushRequest__Output } from '../../edgesplit/v1/PushRequest.ts';
import type { PushResponse as _edgesplit_v1_PushResponse, PushResponse__Output as _edgesplit_v1_PushResponse__Output } from '../../edgesplit/v1/PushResponse.ts';
import type { RunRequest as _edgesplit_v1_RunRequest, RunRequest__Output as _edgesplit_v1_RunRequest__Output } from '../../edgesplit/v1/RunRequest.ts';
import type { RunResponse as _edgesplit_v1_RunResponse, RunResponse__Output as _edgesplit_v1_RunResponse__Output } from '../../edgesplit/v1/RunResponse.ts';

export interface PartitionClient extends grpc.Client {
  Describe(argument: _edgesplit_v1_DescribeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  Describe(argument: _edgesplit_v1_DescribeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesplit_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  Describe(argument: _edgesplit_v1_DescribeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  Describe(argument: _edgesplit_v1_DescribeRequest, callback: grpc.requestCallback<_edgesplit_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  describe(argument: _edgesplit_v1_DescribeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  describe(argument: _edgesplit_v1_DescribeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesplit_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  describe(argument: _edgesplit_v1_DescribeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  describe(argument: _edgesplit_v1_DescribeRequest, callback: grpc.requestCallback<_edgesplit_v1_DescribeResponse__Output>): grpc.ClientUnaryCall;
  
  Push(argument: _edgesplit_v1_PushRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_PushResponse__Output>): grpc.ClientUnaryCall;
  Push(argument: _edgesplit_v1_PushRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesplit_v1_PushResponse__Output>): grpc.ClientUnaryCall;
  Push(argument: _edgesplit_v1_PushRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_PushResponse__Output>): grpc.ClientUnaryCall;
  Push(argument: _edgesplit_v1_PushRequest, callback: grpc.requestCallback<_edgesplit_v1_PushResponse__Output>): grpc.ClientUnaryCall;
  push(argument: _edgesplit_v1_PushRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_PushResponse__Output>): grpc.ClientUnaryCall;
  push(argument: _edgesplit_v1_PushRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesplit_v1_PushResponse__Output>): grpc.ClientUnaryCall;
  push(argument: _edgesplit_v1_PushRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_PushResponse__Output>): grpc.ClientUnaryCall;
  push(argument: _edgesplit_v1_PushRequest, callback: grpc.requestCallback<_edgesplit_v1_PushResponse__Output>): grpc.ClientUnaryCall;
  
  Run(argument: _edgesplit_v1_RunRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  Run(argument: _edgesplit_v1_RunRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesplit_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  Run(argument: _edgesplit_v1_RunRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  Run(argument: _edgesplit_v1_RunRequest, callback: grpc.requestCallback<_edgesplit_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  run(argument: _edgesplit_v1_RunRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  run(argument: _edgesplit_v1_RunRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesplit_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  run(argument: _edgesplit_v1_RunRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  run(argument: _edgesplit_v1_RunRequest, callback: grpc.requestCallback<_edgesplit_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface PartitionHandlers extends grpc.UntypedServiceImplementation {
  Describe: grpc.handleUnaryCall<_edgesplit_v1_DescribeRequest__Output, _edgesplit_v1_DescribeResponse>;
  
  Push: grpc.handleUnaryCall<_edgesplit_v1_PushRequest__Output, _edgesplit_v1_PushResponse>;
  
  Run: grpc.handleUnaryCall<_edgesplit_v1_RunRequest__Output, _edgesplit_v1_RunResponse>;
  
}

export interface PartitionDefinition extends grpc.ServiceDefinition {
  Describe: MethodDefinition<_edgesplit_v1_DescribeRequest, _edgesplit_v1_DescribeResponse, _edgesplit_v1_DescribeRequest__Output, _edgesplit_v1_DescribeResponse__Output>
  Push: MethodDefinition<_edgesplit_v1_PushRequest, _edgesplit_v1_PushResponse, _edgesplit_v1_PushRequest__Output, _edgesplit_v1_PushResponse__Output>
  Run: MethodDefinition<_edgesplit_v1_RunRequest, _edgesplit_v1_RunResponse, _edgesplit_v1_RunRequest__Output, _edgesplit_v1_RunResponse__Output>
}
