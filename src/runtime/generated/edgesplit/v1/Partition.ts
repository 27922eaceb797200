// Original file: protos/edgesplit/v1/partition.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DescribeRequest as _edgesplit_v1_DescribeRequest, DescribeRequest__Output as _edgesplit_v1_DescribeRequest__Output } from '../../edgesplit/v1/DescribeRequest.ts';
import type { DescribeResponse as _edgesplit_v1_DescribeResponse, DescribeResponse__Output as _edgesplit_v1_DescribeResponse__Output } from '../../edgesplit/v1/DescribeResponse.ts';
import type { PushAck as _edgesplit_v1_PushAck, PushAck__Output as _edgesplit_v1_PushAck__Output } from '../../edgesplit/v1/PushAck.ts';
import type { PushRequest as _edgesplit_v1_PushRequest, PushRequest__Output as _edgesplit_v1_PushRequest__Output } from '../../edgesplit/v1/PushRequest.ts';
import type { PushResponse as _edgesplit_v1_PushResponse, PushResponse__Output as _edgesplit_v1_PushResponse__Output } from '../../edgesplit/v1/PushResponse.ts';
import type { RunFrame as _edgesplit_v1_RunFrame, RunFrame__Output as _edgesplit_v1_RunFrame__Output } from '../../edgesplit/v1/RunFrame.ts';
import type { RunRequest as _edgesplit_v1_RunRequest, RunRequest__Output as _edgesplit_v1_RunRequest__Output } from '../../edgesplit/v1/RunRequest.ts';
import type { RunResponse as _edgesplit_v1_RunResponse, RunResponse__Output as _edgesplit_v1_RunResponse__Output } from '../../edgesplit/v1/RunResponse.ts';
import type { RunResult as _edgesplit_v1_RunResult, RunResult__Output as _edgesplit_v1_RunResult__Output } from '../../edgesplit/v1/RunResult.ts';

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
  
  PushStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_edgesplit_v1_PushRequest, _edgesplit_v1_PushAck__Output>;
  PushStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_edgesplit_v1_PushRequest, _edgesplit_v1_PushAck__Output>;
  pushStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_edgesplit_v1_PushRequest, _edgesplit_v1_PushAck__Output>;
  pushStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_edgesplit_v1_PushRequest, _edgesplit_v1_PushAck__Output>;
  
  Run(argument: _edgesplit_v1_RunRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  Run(argument: _edgesplit_v1_RunRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesplit_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  Run(argument: _edgesplit_v1_RunRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  Run(argument: _edgesplit_v1_RunRequest, callback: grpc.requestCallback<_edgesplit_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  run(argument: _edgesplit_v1_RunRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  run(argument: _edgesplit_v1_RunRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesplit_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  run(argument: _edgesplit_v1_RunRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  run(argument: _edgesplit_v1_RunRequest, callback: grpc.requestCallback<_edgesplit_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  
  RunStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_edgesplit_v1_RunFrame, _edgesplit_v1_RunResult__Output>;
  RunStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_edgesplit_v1_RunFrame, _edgesplit_v1_RunResult__Output>;
  runStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_edgesplit_v1_RunFrame, _edgesplit_v1_RunResult__Output>;
  runStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_edgesplit_v1_RunFrame, _edgesplit_v1_RunResult__Output>;
  
}

export interface PartitionHandlers extends grpc.UntypedServiceImplementation {
  Describe: grpc.handleUnaryCall<_edgesplit_v1_DescribeRequest__Output, _edgesplit_v1_DescribeResponse>;
  
  Push: grpc.handleUnaryCall<_edgesplit_v1_PushRequest__Output, _edgesplit_v1_PushResponse>;
  
  PushStream: grpc.handleBidiStreamingCall<_edgesplit_v1_PushRequest__Output, _edgesplit_v1_PushAck>;
  
  Run: grpc.handleUnaryCall<_edgesplit_v1_RunRequest__Output, _edgesplit_v1_RunResponse>;
  
  RunStream: grpc.handleBidiStreamingCall<_edgesplit_v1_RunFrame__Output, _edgesplit_v1_RunResult>;
  
}

export interface PartitionDefinition extends grpc.ServiceDefinition {
  Describe: MethodDefinition<_edgesplit_v1_DescribeRequest, _edgesplit_v1_DescribeResponse, _edgesplit_v1_DescribeRequest__Output, _edgesplit_v1_DescribeResponse__Output>
  Push: MethodDefinition<_edgesplit_v1_PushRequest, _edgesplit_v1_PushResponse, _edgesplit_v1_PushRequest__Output, _edgesplit_v1_PushResponse__Output>
  PushStream: MethodDefinition<_edgesplit_v1_PushRequest, _edgesplit_v1_PushAck, _edgesplit_v1_PushRequest__Output, _edgesplit_v1_PushAck__Output>
  Run: MethodDefinition<_edgesplit_v1_RunRequest, _edgesplit_v1_RunResponse, _edgesplit_v1_RunRequest__Output, _edgesplit_v1_RunResponse__Output>
  RunStream: MethodDefinition<_edgesplit_v1_RunFrame, _edgesplit_v1_RunResult, _edgesplit_v1_RunFrame__Output, _edgesplit_v1_RunResult__Output>
}
