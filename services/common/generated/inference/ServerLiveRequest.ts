// Original file: /work/main/protos/inference/grpc_predict_v2.proto


export interface ServerLiveRequest {
}

export interface ServerLiveRequest__Output {
}
