// Original file: /work/main/protos/inference/grpc_predict_v2.proto


export interface ServerMetadataRequest {
}

export interface ServerMetadataRequest__Output {
}
