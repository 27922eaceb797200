// Original file: protos/edgesplit/v1/planner.proto


export interface NodeInfo {
  'name'?: (string);
  'ready'?: (boolean);
  'gflops'?: (number | string);
  'bandwidthMbps'?: (number | string);
  'latencyMs'?: (number | string);
  'memoryMib'?: (number | string);
  'defaulted'?: (string)[];
  'partitions'?: (number)[];
}

export interface NodeInfo__Output {
  'name': (string);
  'ready': (boolean);
  'gflops': (number);
  'bandwidthMbps': (number);
  'latencyMs': (number);
  'memoryMib': (number);
  'defaulted': (string)[];
  'partitions': (number)[];
}
