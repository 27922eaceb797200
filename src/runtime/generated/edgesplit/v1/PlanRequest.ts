// Original file: protos/edgesplit/v1/planner.proto


export interface PlanRequest {
  'clusterYaml'?: (string);
  'accuracyFloor'?: (number | string);
  'sloMs'?: (number | string);
}

export interface PlanRequest__Output {
  'clusterYaml': (string);
  'accuracyFloor': (number);
  'sloMs': (number);
}
