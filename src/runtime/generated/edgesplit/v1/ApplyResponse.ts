// Original file: protos/edgesplit/v1/planner.proto


export interface ApplyResponse {
  'planJson'?: (string);
  'planHash'?: (string);
  'applied'?: (string)[];
  'deleted'?: (string)[];
}

export interface ApplyResponse__Output {
  'planJson': (string);
  'planHash': (string);
  'applied': (string)[];
  'deleted': (string)[];
}
