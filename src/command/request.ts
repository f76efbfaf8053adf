/**
 * Who asked for what, from where. A leaf module: the queue, the approval store
 * and policy import these types without pulling in the verb framework.
 */

export type VerbClass = 'read' | 'write' | 'admin';

/** Who asked for what, from where: everything later steps need from the Slack request. */
export interface CommandRequest {
  /** Stable id derived from the Slack request (a retried request gets the same id). */
  requestId: string;
  text: string;
  userId: string;
  userName?: string;
  channelId: string;
  teamId?: string;
  responseUrl?: string;
  /** Report in this existing thread (a button clicked inside a thread) instead of starting one. */
  threadTs?: string;
  receivedAt: number;
}

/** What a verb touches, for policy and the per-target lock. */
export interface VerbTarget {
  env?: string;
  app?: string;
}
