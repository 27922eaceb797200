// Original file: protos/edgesplit/v1/planner.proto


export interface PlanResponse {
  'planJson'?: (string);
  'package'?: (string);
  'partitions'?: (number);
  'policyId'?: (string);
  'predictedLatencyMs'?: (number | string);
  'explanation'?: (string);
  'planHash'?: (string);
}

export interface PlanResponse__Output {
  'planJson': (string);
  'package': (string);
  'partitions': (number);
  'policyId': (string);
  'predictedLatencyMs': (number);
  'explanation': (string);
  'planHash': (string);
}
