// Original file: protos/edgesplit/v1/partition.proto


export interface CancelRun {
  'requestId'?: (string);
}

export interface CancelRun__Output {
  'requestId': (string);
}
