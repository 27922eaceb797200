import type { KubeNode } from '../cluster/from-nodes.ts';
import type { KubeObject } from './objects.ts';

/** SYNC carries the full list (at start and after every re-list); the others one change. */
export type NodeEvent =
  | { type: 'SYNC'; nodes: KubeNode[] }
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; node: KubeNode };

export interface EventSpec {
  namespace: string;
  /** The object the event is about. */
  involved: { apiVersion: string; kind: string; name: string };
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** The few Kubernetes calls the planner makes; the controller and the CLI depend on this, not on a client library. */
export interface ClusterApi {
  listNodes(): Promise<KubeNode[]>;
  /** Calls onEvent with the current edge nodes, then every change, until the returned stop() is called; re-lists after a broken watch. */
  watchNodes(onEvent: (e: NodeEvent) => void, onError: (err: Error) => void): Promise<() => void>;
  /** Server-side apply (field manager edgesplit-planner, forced); returns the object as stored. */
  applyObject(obj: KubeObject): Promise<KubeObject>;
  deleteObject(ref: { apiVersion: string; kind: string; name: string; namespace: string }): Promise<void>;
  /** One object by name; NotFoundError when it does not exist. */
  getObject(ref: { apiVersion: string; kind: string; name: string; namespace: string }): Promise<KubeObject>;
  listOwned(namespace: string, labelSelector: string): Promise<KubeObject[]>;
  createEvent(e: EventSpec): Promise<void>;
}
