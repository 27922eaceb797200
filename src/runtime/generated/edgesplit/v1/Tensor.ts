// Original file: protos/edgesplit/v1/tensor.proto

import type { Precision as _edgesplit_v1_Precision, Precision__Output as _edgesplit_v1_Precision__Output } from '../../edgesplit/v1/Precision.ts';
import type { Long } from '@grpc/proto-loader';

export interface Tensor {
  'shape'?: (number | string | Long)[];
  'precision'?: (_edgesplit_v1_Precision);
  'data'?: (Buffer | Uint8Array | string);
  'scales'?: (number | string)[];
  'rawUint8'?: (boolean);
}

export interface Tensor__Output {
  'shape': (number)[];
  'precision': (_edgesplit_v1_Precision__Output);
  'data': (Buffer);
  'scales': (number)[];
  'rawUint8': (boolean);
}
