// Original file: protos/edgesplit/v1/partition.proto

import type { RunRequest as _edgesplit_v1_RunRequest, RunRequest__Output as _edgesplit_v1_RunRequest__Output } from '../../edgesplit/v1/RunRequest.ts';
import type { CancelRun as _edgesplit_v1_CancelRun, CancelRun__Output as _edgesplit_v1_CancelRun__Output } from '../../edgesplit/v1/CancelRun.ts';

export interface RunFrame {
  'run'?: (_edgesplit_v1_RunRequest | null);
  'cancel'?: (_edgesplit_v1_CancelRun | null);
  'kind'?: "run"|"cancel";
}

export interface RunFrame__Output {
  'run'?: (_edgesplit_v1_RunRequest__Output | null);
  'cancel'?: (_edgesplit_v1_CancelRun__Output | null);
  'kind'?: "run"|"cancel";
}
