import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { CallStatus as _edgesplit_v1_CallStatus, CallStatus__Output as _edgesplit_v1_CallStatus__Output } from './edgesplit/v1/CallStatus.ts';
import type { CancelRun as _edgesplit_v1_CancelRun, CancelRun__Output as _edgesplit_v1_CancelRun__Output } from './edgesplit/v1/CancelRun.ts';
import type { DescribeRequest as _edgesplit_v1_DescribeRequest, DescribeRequest__Output as _edgesplit_v1_DescribeRequest__Output } from './edgesplit/v1/DescribeRequest.ts';
import type { DescribeResponse as _edgesplit_v1_DescribeResponse, DescribeResponse__Output as _edgesplit_v1_DescribeResponse__Output } from './edgesplit/v1/DescribeResponse.ts';
import type { LiveStats as _edgesplit_v1_LiveStats, LiveStats__Output as _edgesplit_v1_LiveStats__Output } from './edgesplit/v1/LiveStats.ts';
import type { PartitionClient as _edgesplit_v1_PartitionClient, PartitionDefinition as _edgesplit_v1_PartitionDefinition } from './edgesplit/v1/Partition.ts';
import type { PointStat as _edgesplit_v1_PointStat, PointStat__Output as _edgesplit_v1_PointStat__Output } from './edgesplit/v1/PointStat.ts';
import type { PushAck as _edgesplit_v1_PushAck, PushAck__Output as _edgesplit_v1_PushAck__Output } from './edgesplit/v1/PushAck.ts';
import type { PushRequest as _edgesplit_v1_PushRequest, PushRequest__Output as _edgesplit_v1_PushRequest__Output } from './edgesplit/v1/PushRequest.ts';
import type { PushResponse as _edgesplit_v1_PushResponse, PushResponse__Output as _edgesplit_v1_PushResponse__Output } from './edgesplit/v1/PushResponse.ts';
import type { PushSeries as _edgesplit_v1_PushSeries, PushSeries__Output as _edgesplit_v1_PushSeries__Output } from './edgesplit/v1/PushSeries.ts';
import type { RunFrame as _edgesplit_v1_RunFrame, RunFrame__Output as _edgesplit_v1_RunFrame__Output } from './edgesplit/v1/RunFrame.ts';
import type { RunRequest as _edgesplit_v1_RunRequest, RunRequest__Output as _edgesplit_v1_RunRequest__Output } from './edgesplit/v1/RunRequest.ts';
import type { RunResponse as _edgesplit_v1_RunResponse, RunResponse__Output as _edgesplit_v1_RunResponse__Output } from './edgesplit/v1/RunResponse.ts';
import type { RunResult as _edgesplit_v1_RunResult, RunResult__Output as _edgesplit_v1_RunResult__Output } from './edgesplit/v1/RunResult.ts';
import type { Tensor as _edgesplit_v1_Tensor, Tensor__Output as _edgesplit_v1_Tensor__Output } from './edgesplit/v1/Tensor.ts';
import type { UnitInfo as _edgesplit_v1_UnitInfo, UnitInfo__Output as _edgesplit_v1_UnitInfo__Output } from './edgesplit/v1/UnitInfo.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  edgesplit: {
    v1: {
      CallStatus: MessageTypeDefinition<_edgesplit_v1_CallStatus, _edgesplit_v1_CallStatus__Output>
      CancelRun: MessageTypeDefinition<_edgesplit_v1_CancelRun, _edgesplit_v1_CancelRun__Output>
      DescribeRequest: MessageTypeDefinition<_edgesplit_v1_DescribeRequest, _edgesplit_v1_DescribeRequest__Output>
      DescribeResponse: MessageTypeDefinition<_edgesplit_v1_DescribeResponse, _edgesplit_v1_DescribeResponse__Output>
      LiveStats: MessageTypeDefinition<_edgesplit_v1_LiveStats, _edgesplit_v1_LiveStats__Output>
      Partition: SubtypeConstructor<typeof grpc.Client, _edgesplit_v1_PartitionClient> & { service: _edgesplit_v1_PartitionDefinition }
      PointStat: MessageTypeDefinition<_edgesplit_v1_PointStat, _edgesplit_v1_PointStat__Output>
      Precision: EnumTypeDefinition
      PushAck: MessageTypeDefinition<_edgesplit_v1_PushAck, _edgesplit_v1_PushAck__Output>
      PushRequest: MessageTypeDefinition<_edgesplit_v1_PushRequest, _edgesplit_v1_PushRequest__Output>
      PushResponse: MessageTypeDefinition<_edgesplit_v1_PushResponse, _edgesplit_v1_PushResponse__Output>
      PushSeries: MessageTypeDefinition<_edgesplit_v1_PushSeries, _edgesplit_v1_PushSeries__Output>
      RunFrame: MessageTypeDefinition<_edgesplit_v1_RunFrame, _edgesplit_v1_RunFrame__Output>
      RunRequest: MessageTypeDefinition<_edgesplit_v1_RunRequest, _edgesplit_v1_RunRequest__Output>
      RunResponse: MessageTypeDefinition<_edgesplit_v1_RunResponse, _edgesplit_v1_RunResponse__Output>
      RunResult: MessageTypeDefinition<_edgesplit_v1_RunResult, _edgesplit_v1_RunResult__Output>
      Tensor: MessageTypeDefinition<_edgesplit_v1_Tensor, _edgesplit_v1_Tensor__Output>
      UnitInfo: MessageTypeDefinition<_edgesplit_v1_UnitInfo, _edgesplit_v1_UnitInfo__Output>
    }
  }
}

