import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Tensor as _edgesplit_v1_Tensor, Tensor__Output as _edgesplit_v1_Tensor__Output } from './edgesplit/v1/Tensor.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  edgesplit: {
    v1: {
      Precision: EnumTypeDefinition
      Tensor: MessageTypeDefinition<_edgesplit_v1_Tensor, _edgesplit_v1_Tensor__Output>
    }
  }
}

