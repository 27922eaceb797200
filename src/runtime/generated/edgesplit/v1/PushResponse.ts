// Original file: protos/edgesplit/v1/partition.proto


export interface PushResponse {
  'accepted'?: (boolean);
}

export interface PushResponse__Output {
  'accepted': (boolean);
}
