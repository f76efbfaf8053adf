/** One revision of a workload as `history` shows it (a leaf: no imports, so any layer of kube/ may name it). */

/** Who made a revision, and how we know. */
export interface Attribution {
  /** `audit`: a job of ours ran when the ReplicaSet was created; `annotations`: copied from the Deployment by the controller. */
  source: 'audit' | 'annotations';
  userId?: string;
  /** A user name, when only the annotation's text is known. */
  userName?: string;
  channelId?: string;
  /** The verb of the job (deploy, restart, config, rollback…). */
  verb?: string;
  /** The job's id. */
  ref?: string;
}

export interface Revision {
  revision: number;
  /** The object that keeps it: a ReplicaSet (Deployment) or a ControllerRevision (StatefulSet, DaemonSet). */
  object: string;
  images: string[];
  createdAt?: Date;
  current: boolean;
  desired: number;
  ready: number;
  changeCause?: string;
  /** Revision numbers this ReplicaSet had before (it was rolled back to). */
  formerRevisions: number[];
  by?: Attribution;
}
