// Original file: protos/edgesplit/v1/partition.proto


export interface CallStatus {
  'code'?: (number);
  'message'?: (string);
}

export interface CallStatus__Output {
  'code': (number);
  'message': (string);
}
