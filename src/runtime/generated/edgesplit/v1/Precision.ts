// Original file: protos/edgesplit/v1/tensor.proto

export const Precision = {
  PRECISION_UNSPECIFIED: 'PRECISION_UNSPECIFIED',
  FP32: 'FP32',
  FP16: 'FP16',
  UINT8: 'UINT8',
} as const;

export type Precision =
  | 'PRECISION_UNSPECIFIED'
  | 0
  | 'FP32'
  | 1
  | 'FP16'
  | 2
  | 'UINT8'
  | 3

export type Precision__Output = typeof Precision[keyof typeof Precision]
