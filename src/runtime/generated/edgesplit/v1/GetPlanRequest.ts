// Original file: protos/edgesplit/v1/planner.proto


export interface GetPlanRequest {
}

export interface GetPlanRequest__Output {
}
