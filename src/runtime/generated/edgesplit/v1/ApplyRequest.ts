// Original file: protos/edgesplit/v1/planner.proto


export interface ApplyRequest {
  'planJson'?: (string);
  'accuracyFloor'?: (number | string);
  'sloMs'?: (number | string);
}

export interface ApplyRequest__Output {
  'planJson': (string);
  'accuracyFloor': (number);
  'sloMs': (number);
}
