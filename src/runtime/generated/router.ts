import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { PartitionCalls as _edgesplit_v1_PartitionCalls, PartitionCalls__Output as _edgesplit_v1_PartitionCalls__Output } from './edgesplit/v1/PartitionCalls.ts';
import type { RouterLive as _edgesplit_v1_RouterLive, RouterLive__Output as _edgesplit_v1_RouterLive__Output } from './edgesplit/v1/RouterLive.ts';
import type { RouterLiveRequest as _edgesplit_v1_RouterLiveRequest, RouterLiveRequest__Output as _edgesplit_v1_RouterLiveRequest__Output } from './edgesplit/v1/RouterLiveRequest.ts';
import type { RouterStatsClient as _edgesplit_v1_RouterStatsClient, RouterStatsDefinition as _edgesplit_v1_RouterStatsDefinition } from './edgesplit/v1/RouterStats.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  edgesplit: {
    v1: {
      PartitionCalls: MessageTypeDefinition<_edgesplit_v1_PartitionCalls, _edgesplit_v1_PartitionCalls__Output>
      RouterLive: MessageTypeDefinition<_edgesplit_v1_RouterLive, _edgesplit_v1_RouterLive__Output>
      RouterLiveRequest: MessageTypeDefinition<_edgesplit_v1_RouterLiveRequest, _edgesplit_v1_RouterLiveRequest__Output>
      RouterStats: SubtypeConstructor<typeof grpc.Client, _edgesplit_v1_RouterStatsClient> & { service: _edgesplit_v1_RouterStatsDefinition }
    }
  }
}

