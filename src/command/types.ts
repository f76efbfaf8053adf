import type { z } from 'zod';
import type { Config } from '../config/schema.js';
import type { ClusterClient } from '../kube/clusters.js';
import type { DryRun } from '../kube/dry-run.js';
import type { Logger } from '../log.js';
import type { SlackMessage } from '../slack/blocks.js';
import type { Progress } from '../slack/progress.js';
import type { Services } from './services.js';

export type { CommandRequest, VerbClass, VerbTarget } from './request.js';
import type { CommandRequest, VerbClass, VerbTarget } from './request.js';

export interface VerbScope {
  envs: string[];
  /** Why these environments, for a denial ("node worker-1 belongs to cluster default, shared by beta and prod"). */
  reason: string;
}

export interface ResolvedEnvironment {
  name: string;
  namespace: string;
  cluster: ClusterClient;
}

export interface VerbContext<A> {
  args: A;
  request: CommandRequest;
  config: Config;
  /** Every verb the bot knows (for help and access). */
  verbs: ReadonlyMap<string, Verb>;
  /** Queue, audit log, button intents: what verbs may use besides the cluster. */
  services: Services;
  log: Logger;
  /** Private answer to the requester (response_url, ephemeral). */
  reply(message: SlackMessage): Promise<void>;
  /** Answer visible to the channel (response_url, in_channel). */
  replyInChannel(message: SlackMessage): Promise<void>;
}

export interface WorkerVerbContext<A> extends VerbContext<A> {
  environment(name: string): ResolvedEnvironment;
  /** Progress thread for long-running work; created on first use. */
  progress: Progress;
  signal: AbortSignal;
  /**
   * Set on a `--dry-run` (and when an approval request works out its diff): pass `{ dryRun: ctx.dryRun }`
   * to every src/kube write helper, which then sends its request with `dryRun=All` and records the change.
   * Nothing may be written, queued or posted besides: `progress` does nothing, `reply` texts become notes
   * under the diff, and `runRolloutJob` only makes the change (no thread, no following).
   */
  dryRun?: DryRun;
}

export type VerbOutcome = 'succeeded' | 'failed';

export type FlagKind = 'boolean' | 'value' | { optionalValue: RegExp };

interface VerbBase<A> {
  verb: string;
  summary: string;
  /** e.g. "deploy <app> <env> [version]" */
  usage: string;
  example: string;
  class: VerbClass;
  /** Positional argument names in order; "name?" is optional, "name..." takes the rest. */
  positionals: readonly string[];
  /**
   * --flag names and whether they take a value: `boolean` never, `value` always, and an
   * `{ optionalValue }` flag takes the next word only when it matches (`--follow` or `--follow 2m`).
   */
  flags?: Readonly<Record<string, FlagKind>>;
  schema: z.ZodType<A>;
  target(args: A): VerbTarget;
  /** Checks against the config (no cluster calls), before anything is queued: e.g. "is this app configured?" */
  check?(args: A, config: Config): void;
  /**
   * For a verb whose target is wider than one environment (a node belongs to a cluster):
   * every environment the invocation reaches, from config and the channel (no cluster
   * calls). The channel must be bound to each; the strictest approval rule among them applies.
   */
  scope?(args: A, config: Config, channelId: string): VerbScope;
  /**
   * The command as it may be shown and recorded (audit, approval request, jobs list):
   * secret values masked. Default: the text as typed.
   */
  displayText?(args: A, config: Config): string;
  /**
   * The named arguments as typed (before validation) with the secret values of this
   * invocation replaced by a mask, or undefined when it holds none. The masked form is
   * what Redis keeps in clear (job data, approval records); the real arguments travel
   * encrypted and are opened only by the worker that applies them (src/command/secret-args.ts).
   */
  maskSecrets?(raw: Readonly<Record<string, unknown>>, config: Config): Record<string, unknown> | undefined;
  /**
   * The class of this invocation when it depends on its arguments (a task's class comes from config);
   * `class` otherwise. Decides approval, the per-target lock and audit, as `class` does.
   */
  classFor?(args: A, config: Config): VerbClass;
  /** Audited even when this invocation's class is read (every task run leaves its exit code in the audit). */
  auditsReads?: boolean;
  /**
   * Why this verb refuses `--dry-run` (the API server cannot dry-run what it does, e.g. an exec).
   * Write and admin verbs run by the worker accept `--dry-run` unless they say why not here.
   */
  noDryRun?: string | ((args: A) => string | undefined);
  /**
   * How to undo a run of this verb on an app in an environment, in one sentence (`cancel` says it of a job
   * that is already running). Default: roll back with `rollback`; a verb whose change a rollback does not
   * undo (a replica count) says its own way.
   */
  undoHint?(target: { app: string; env: string }): string;
  /** False for verbs whose runs never make a new Deployment revision (replicas, nodes, the queue): `history` attributes none to them. */
  makesRevision?: boolean;
  /** An alert's Show logs button counts as this verb: a channel may click it where its binding allows this verb. */
  showsAlertLogs?: boolean;
}

/** Answered by the app itself: no cluster access, no queue. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a registry holds verbs of every argument type
export interface AppVerb<A = any> extends VerbBase<A> {
  runsIn: 'app';
  run(ctx: VerbContext<A>): Promise<void>;
}

/** Queued on BullMQ and run by a worker. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
export interface WorkerVerb<A = any> extends VerbBase<A> {
  runsIn: 'worker';
  /** One-line description used in the queued ack and thread header, e.g. "deploy myapp → beta". */
  describe(args: A): string;
  /** True when this invocation changes nothing (e.g. `config get`): no approval, no lock. */
  changesNothing?(args: A): boolean;
  /**
   * True when this invocation only removes what the bot itself made for a chat
   * request (a debug copy, a canary): policy, lock and audit apply, approval never.
   */
  onlyCleansUp?(args: A): boolean;
  /**
   * What the command will change, in a few lines for an approver ("image a → b",
   * "replicas 3 → 0"). Runs in the worker before an approval request is posted.
   */
  preview?(ctx: WorkerVerbContext<A>): Promise<string[]>;
  /**
   * Checks against the cluster that refuse this invocation (by throwing) before an approval request
   * is posted: what the run itself would refuse — a value no node has — never reaches approvers.
   * The run checks again; a failed `preview`, by contrast, only notes that in the request.
   */
  vet?(ctx: WorkerVerbContext<A>): Promise<void>;
  /**
   * Arguments to fix before an approval request is posted, as typed (e.g. the version a
   * versionless deploy resolves to, the revision a rollback goes back to), so the run that
   * follows the approval does exactly what approvers saw, however long they took.
   */
  pin?(ctx: WorkerVerbContext<A>): Promise<Record<string, string>>;
  /**
   * Resolves 'failed' when it ran to the end but the change did not succeed (already reported in its thread);
   * `{ outcome, detail }` adds a line to its audit entry (a task's exit code).
   */
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- most verbs end without saying; void keeps them `async run() {…}`
  run(ctx: WorkerVerbContext<A>): Promise<VerbOutcome | { outcome: VerbOutcome; detail: string } | void>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
export type Verb<A = any> = AppVerb<A> | WorkerVerb<A>;

export function defineVerb<A>(verb: AppVerb<A>): AppVerb<A>;
export function defineVerb<A>(verb: WorkerVerb<A>): WorkerVerb<A>;
export function defineVerb<A>(verb: Verb<A>): Verb<A> {
  return verb;
}

/** The class of one invocation: `classFor` when the verb has it, else its class. */
export function classOf(verb: Verb, args: unknown, config: Config): VerbClass {
  return verb.classFor?.(args, config) ?? verb.class;
}

/** Why `--dry-run` is refused for this verb (for these arguments, when given), or undefined when it is accepted. */
export function dryRunRefusal(verb: Verb, args?: unknown): string | undefined {
  if (typeof verb.noDryRun === 'string') return verb.noDryRun;
  if (verb.noDryRun && args !== undefined) {
    const refusal = verb.noDryRun(args);
    if (refusal) return refusal;
  }
  if (verb.class === 'read') return `\`${verb.verb}\` changes nothing, so there is nothing to dry-run; run it without \`--dry-run\`.`;
  if (verb.runsIn !== 'worker') return `\`${verb.verb}\` does not change the cluster, so a server-side dry run has nothing to show.`;
  return undefined;
}
