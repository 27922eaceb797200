// Original file: protos/edgesplit/v1/router.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { RouterLive as _edgesplit_v1_RouterLive, RouterLive__Output as _edgesplit_v1_RouterLive__Output } from '../../edgesplit/v1/RouterLive.ts';
import type { RouterLiveRequest as _edgesplit_v1_RouterLiveRequest, RouterLiveRequest__Output as _edgesplit_v1_RouterLiveRequest__Output } from '../../edgesplit/v1/RouterLiveRequest.ts';

export interface RouterStatsClient extends grpc.Client {
  Live(argument: _edgesplit_v1_RouterLiveRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_RouterLive__Output>): grpc.ClientUnaryCall;
  Live(argument: _edgesplit_v1_RouterLiveRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesplit_v1_RouterLive__Output>): grpc.ClientUnaryCall;
  Live(argument: _edgesplit_v1_RouterLiveRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_RouterLive__Output>): grpc.ClientUnaryCall;
  Live(argument: _edgesplit_v1_RouterLiveRequest, callback: grpc.requestCallback<_edgesplit_v1_RouterLive__Output>): grpc.ClientUnaryCall;
  live(argument: _edgesplit_v1_RouterLiveRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_RouterLive__Output>): grpc.ClientUnaryCall;
  live(argument: _edgesplit_v1_RouterLiveRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_edgesplit_v1_RouterLive__Output>): grpc.ClientUnaryCall;
  live(argument: _edgesplit_v1_RouterLiveRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_edgesplit_v1_RouterLive__Output>): grpc.ClientUnaryCall;
  live(argument: _edgesplit_v1_RouterLiveRequest, callback: grpc.requestCallback<_edgesplit_v1_RouterLive__Output>): grpc.ClientUnaryCall;
  
}

export interface RouterStatsHandlers extends grpc.UntypedServiceImplementation {
  Live: grpc.handleUnaryCall<_edgesplit_v1_RouterLiveRequest__Output, _edgesplit_v1_RouterLive>;
  
}

export interface RouterStatsDefinition extends grpc.ServiceDefinition {
  Live: MethodDefinition<_edgesplit_v1_RouterLiveRequest, _edgesplit_v1_RouterLive, _edgesplit_v1_RouterLiveRequest__Output, _edgesplit_v1_RouterLive__Output>
}
