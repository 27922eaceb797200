// Original file: protos/edgesplit/v1/partition.proto


export interface DescribeRequest {
}

export interface DescribeRequest__Output {
}
