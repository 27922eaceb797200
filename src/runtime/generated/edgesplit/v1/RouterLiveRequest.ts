// Original file: protos/edgesplit/v1/router.proto


export interface RouterLiveRequest {
}

export interface RouterLiveRequest__Output {
}
