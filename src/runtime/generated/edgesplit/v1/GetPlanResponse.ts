// Original file: protos/edgesplit/v1/planner.proto


export interface GetPlanResponse {
  'planJson'?: (string);
  'planHash'?: (string);
  'lastReason'?: (string);
  'lastError'?: (string);
  'updatedAt'?: (string);
}

export interface GetPlanResponse__Output {
  'planJson': (string);
  'planHash': (string);
  'lastReason': (string);
  'lastError': (string);
  'updatedAt': (string);
}
