/**
 * The workload a verb acts on: the configured app's rendered or adopted
 * workload in one environment, read live. Verbs act only on configured apps.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { rolloutTimeoutMs } from '../kube/deployments.js';
import { colorName, serviceColor, type Color } from '../kube/blue-green.js';
import { appWorkload, type AppWorkload } from '../config/apps.js';
import { requireApp } from '../config/lookup.js';
import type { AppConfig, Config } from '../config/schema.js';
import { listAppWorkloads, type ListedWorkload } from '../kube/workloads/list.js';
import { notFound } from '../errors/index.js';
import { workloadOps } from '../kube/workloads/kinds.js';
import { podSelector, type AnyWorkload, type WorkloadKind, type WorkloadOps } from '../kube/workloads/types.js';
import type { ResolvedEnvironment, WorkerVerbContext } from './types.js';

export interface AppTarget {
  appConfig: AppConfig;
  env: ResolvedEnvironment;
  target: AppWorkload;
  ops: WorkloadOps;
}

export function appTarget(ctx: WorkerVerbContext<unknown>, app: string, envName: string): AppTarget {
  const appConfig = requireApp(ctx.config, app);
  const target = appWorkload(app, appConfig, envName);
  return { appConfig, env: ctx.environment(envName), target, ops: workloadOps(target.kind) };
}

/**
 * Reads the app's workload; a missing one says how it comes to exist. After a blue/green release the
 * Deployment that serves is the colour the Service selects: `t.target` is pointed at it, so the verb
 * scales, restarts or changes what serves, not the app's own Deployment left at 0.
 */
export async function readAppWorkload(t: AppTarget): Promise<AnyWorkload> {
  if (!t.target.adopted && t.target.kind === 'Deployment') {
    const color = await serviceColor(t.env.cluster, t.env.namespace, t.target.app);
    if (color === 'blue' || color === 'green') t.target = { ...t.target, name: colorName(t.target.app, color) };
  }
  const live = await t.ops.readIfExists(t.env.cluster, t.env.namespace, t.target.name);
  if (live) return live;
  const what = `${t.target.kind.toLowerCase()} ${t.target.name} in namespace ${t.env.namespace}`;
  throw notFound(
    t.target.adopted
      ? `${what} not found — \`apps.${t.target.app}.workload\` names it; the bot adopts existing workloads and does not create them.`
      : `${what} not found — has it been deployed? Try \`/k8s deploy ${t.target.app} ${t.env.name}\`.`,
  );
}

const COLORS: readonly Color[] = ['blue', 'green'];

/** A configured app's workload that serves in an environment; `color` after a blue/green release (the one its Service selects). */
export type ServingWorkload = ListedWorkload & { color?: Color };

/**
 * Every configured app's live workload in one environment, as `readAppWorkload` picks it: the colour the app's
 * Service selects after a blue/green release, else its own. One list per kind; the Service is read only for an app
 * that has a colour's Deployment. `listed`: every workload found, kept colours included (their pods are the app's).
 */
export async function listServingWorkloads(
  config: Config,
  env: ResolvedEnvironment,
): Promise<{ serving: ServingWorkload[]; listed: ListedWorkload[] }> {
  const targets = Object.entries(config.apps).map(([name, appConfig]) => appWorkload(name, appConfig, env.name));
  const colored = (t: AppWorkload) => !t.adopted && t.kind === 'Deployment';
  const colors = targets.filter(colored).flatMap((t) => COLORS.map((color) => ({ ...t, name: colorName(t.app, color) })));
  const listed = await listAppWorkloads(env.cluster, env.namespace, [...targets, ...colors]);
  const serving = await Promise.all(
    targets.map(async (target): Promise<ServingWorkload | undefined> => {
      const own = listed.find((l) => l.target === target);
      if (!colored(target) || !listed.some((l) => l.target.app === target.app && l.target !== target)) return own;
      const color = await serviceColor(env.cluster, env.namespace, target.app);
      const live = COLORS.find((c) => c === color);
      const chosen = live && listed.find((l) => l.target.app === target.app && l.target.name === colorName(target.app, live));
      return chosen ? { ...chosen, color: live } : own;
    }),
  );
  return { serving: serving.filter((w) => w !== undefined), listed };
}

/**
 * How long to follow: a Deployment's own progress deadline ends a stuck rollout
 * (plus a minute of slack); StatefulSets and DaemonSets have none, so the app's
 * `progressDeadlineSeconds` is the deadline itself.
 */
export function rolloutTimeout(t: AppTarget, live: AnyWorkload): number {
  if (t.target.kind === 'Deployment') return rolloutTimeoutMs(live as V1Deployment);
  return appRolloutTimeoutMs(t.target.kind, t.appConfig);
}

/** The same rule before the workload exists (deploy): the app's deadline, plus slack for a Deployment. */
export function appRolloutTimeoutMs(kind: WorkloadKind, appConfig: AppConfig): number {
  return (appConfig.progressDeadlineSeconds + (kind === 'Deployment' ? 60 : 0)) * 1_000;
}

/** What `runRolloutJob` follows for this app. */
export function followed(t: AppTarget, live: AnyWorkload) {
  return { kind: t.target.kind, name: t.target.name, selector: podSelector(live) };
}
