// Original file: protos/edgesplit/v1/planner.proto


export interface ListNodesRequest {
}

export interface ListNodesRequest__Output {
}
