import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { formatDuration } from '../../config/duration.js';
import { diagnosePod } from '../../kube/diagnose.js';
import { codeBlock, context, escapeMrkdwn, fields, header, section, type SlackMessage } from '../blocks.js';
import { slackDate, textSections } from '../code-sections.js';

/** Age of an object like kubectl prints it. */
export function age(timestamp: Date | string | undefined, now: number): string {
  if (!timestamp) return '?';
  return formatDuration(Math.max(0, now - new Date(timestamp).getTime()));
}

export function podPhase(pod: V1Pod): string {
  const problem = diagnosePod(pod);
  if (problem) return problem.kind === 'ContainerError' ? 'Error' : problem.kind;
  if (pod.metadata?.deletionTimestamp) return 'Terminating';
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  const phase = pod.status?.phase ?? 'Unknown';
  return phase === 'Running' && !ready ? 'Running (not ready)' : phase;
}

export function podRestarts(pod: V1Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + c.restartCount, 0);
}

/** Fixed-width table, for a code block. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function podTable(pods: readonly V1Pod[], now: number): string {
  const rows = [['POD', 'STATUS', 'RESTARTS', 'NODE', 'AGE']];
  for (const pod of pods) {
    rows.push([
      pod.metadata?.name ?? '?',
      podPhase(pod),
      String(podRestarts(pod)),
      pod.spec?.nodeName ?? '-',
      age(pod.metadata?.creationTimestamp, now),
    ]);
  }
  return table(rows);
}

/** `notes`: mrkdwn lines built by other views (e.g. resources set from chat), shown under the conditions. */
export function deploymentStatusView(
  env: string,
  deployment: V1Deployment,
  pods: readonly V1Pod[],
  now = Date.now(),
  notes: readonly string[] = [],
): SlackMessage {
  const name = deployment.metadata?.name ?? '?';
  const spec = deployment.spec;
  const status = deployment.status ?? {};
  const images = [...new Set(spec?.template.spec?.containers.map((c) => c.image ?? '?') ?? [])];
  const revision = deployment.metadata?.annotations?.['deployment.kubernetes.io/revision'];
  const healthy = (status.availableReplicas ?? 0) >= (spec?.replicas ?? 0) && (status.updatedReplicas ?? 0) >= (spec?.replicas ?? 0);
  const conditions = (status.conditions ?? []).map(
    (c) =>
      `${c.status === 'True' ? ':large_green_circle:' : ':red_circle:'} *${escapeMrkdwn(c.type)}* — ${escapeMrkdwn(c.reason ?? '')}${c.message ? `: ${escapeMrkdwn(c.message)}` : ''}`,
  );
  const text = `${healthy ? ':large_green_circle:' : ':large_yellow_circle:'} ${escapeMrkdwn(name)} in ${env}: ${status.availableReplicas ?? 0}/${spec?.replicas ?? 0} available`;
  const blocks = [
    header(`${name} · ${env}`),
    fields([
      `*Replicas*\ndesired ${spec?.replicas ?? 0} · updated ${status.updatedReplicas ?? 0} · available ${status.availableReplicas ?? 0}`,
      `*Image${images.length > 1 ? 's' : ''}*\n${images.map((i) => `\`${escapeMrkdwn(i)}\``).join('\n')}`,
      `*Revision*\n${escapeMrkdwn(revision ?? '?')}${spec?.paused ? ' (paused)' : ''}`,
      `*Deployed by*\n${escapeMrkdwn(deployment.metadata?.annotations?.['k8s-chatops.io/deployed-by'] ?? 'unknown')}`,
    ]),
    ...(conditions.length ? [section(conditions.join('\n'))] : []),
    ...(notes.length ? [section(notes.join('\n'))] : []),
    section(pods.length ? codeBlock(podTable(pods, now)) : '_No pods._'),
    context(`namespace \`${escapeMrkdwn(deployment.metadata?.namespace ?? '?')}\``),
  ];
  return { text, blocks };
}

/** One workload of an app in the environment status: the view of any kind in the Deployment shape, and the app's image. */
export interface EnvironmentWorkload {
  app: string;
  kind: string;
  workload: V1Deployment;
  image: string;
  /** After a blue/green release: the colour that serves, and what is kept for switching back (`color` absent: the app's own Deployment) until when. */
  serving?: { color: string; kept?: { name: string; color?: string; until: number } };
  /** Requests or limits set from chat (`resources`) override the config's. */
  overridden?: boolean;
}

/** The APP cell: `web · green *` (the serving colour; `*` resources set from chat). */
const appCell = (w: EnvironmentWorkload) => `${w.app}${w.serving ? ` · ${w.serving.color}` : ''}${w.overridden ? ' *' : ''}`;

/** What the table only hints at: which colour serves and what is kept until when, and what `*` means. */
function environmentNotes(env: string, workloads: readonly EnvironmentWorkload[]): string[] {
  const notes = workloads.flatMap(({ app, serving }) => {
    if (!serving) return [];
    const kept = serving.kept;
    const old = kept && (kept.color ? escapeMrkdwn(kept.color) : `deployment \`${escapeMrkdwn(kept.name)}\``);
    return [
      `:large_blue_circle: *${escapeMrkdwn(app)}* · ${escapeMrkdwn(serving.color)} serving${kept ? `, ${old} kept until ${slackDate(kept.until)} (\`/k8s abort ${escapeMrkdwn(app)} ${escapeMrkdwn(env)}\` switches back)` : ''}`,
    ];
  });
  if (workloads.some((w) => w.overridden))
    notes.push(
      `:pencil2: \`*\` resources set from chat, kept by every deploy: \`/k8s status &lt;app&gt; ${escapeMrkdwn(env)}\` shows them, \`/k8s resources &lt;app&gt; ${escapeMrkdwn(env)} --reset\` goes back to the bot's config`,
    );
  return notes;
}

export function environmentStatusView(
  env: string,
  namespace: string,
  workloads: readonly EnvironmentWorkload[],
  pods: readonly V1Pod[],
  now = Date.now(),
): SlackMessage {
  if (workloads.length === 0) {
    const text = `None of the configured apps runs in ${env} (namespace ${namespace}).`;
    return { text, blocks: [section(text)] };
  }
  const rows = [['APP', 'KIND', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'IMAGE', 'AGE']];
  let unhealthy = 0;
  for (const w of workloads) {
    const { kind, workload: d, image } = w;
    const want = d.spec?.replicas ?? 0;
    const available = d.status?.availableReplicas ?? 0;
    if (available < want) unhealthy++;
    rows.push([
      appCell(w),
      kind,
      `${d.status?.readyReplicas ?? 0}/${want}`,
      String(d.status?.updatedReplicas ?? 0),
      String(available),
      image,
      age(d.metadata?.creationTimestamp, now),
    ]);
  }
  const problems = pods.map((p) => diagnosePod(p)).filter((p) => p !== undefined);
  const notes = environmentNotes(env, workloads);
  const text = `${unhealthy ? ':large_yellow_circle:' : ':large_green_circle:'} ${env}: ${workloads.length} ${workloads.length === 1 ? 'workload' : 'workloads'}, ${unhealthy} not fully available, ${pods.length} ${pods.length === 1 ? 'pod' : 'pods'}`;
  return {
    text,
    blocks: [
      header(`${env} · namespace ${namespace}`),
      section(codeBlock(table(rows))),
      ...textSections(notes),
      ...(problems.length
        ? [
            section(
              `*Pods with problems*\n${problems
                .slice(0, 10)
                .map((p) => `• \`${escapeMrkdwn(p.pod)}\` ${escapeMrkdwn(p.summary)}`)
                .join('\n')}`,
            ),
          ]
        : []),
      context(text),
    ],
  };
}
