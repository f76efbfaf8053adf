import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { ContainerSummary, EventGroup, PodTemplateSummary } from '../../kube/describe.js';
import { codeBlock, context, escapeMrkdwn, header, section, type Block, type SlackMessage } from '../blocks.js';
import { age, podTable } from './status.js';

/** More than this, and `describe` goes up as a file with a short summary inline. */
const MAX_INLINE_BLOCKS = 40;
const MAX_SECTION_CHARS = 2_900;
/** Event groups shown inline (the file has them all). */
const INLINE_EVENT_GROUPS = 8;

export interface DescribeInput {
  app: string;
  env: string;
  namespace: string;
  /** The workload, in the Deployment shape for StatefulSets and DaemonSets. */
  deployment: V1Deployment;
  /** Its kind (default Deployment) and, for other kinds, how it rolls. */
  kind?: string;
  strategy?: string;
  template: PodTemplateSummary;
  pods: readonly V1Pod[];
  events: readonly EventGroup[];
  now?: number;
}

export interface DescribeView {
  /** The message; `fits` false means the caller should attach `fullText` as a file and show `summary`. */
  message: SlackMessage;
  fits: boolean;
  summary: SlackMessage;
  fullText: string;
}

function containerLines(c: ContainerSummary): string[] {
  return [
    `image: ${c.image}`,
    ...(c.command ? [`command: ${c.command}`] : []),
    ...(c.args ? [`args: ${c.args}`] : []),
    `resources: ${c.resources}`,
    ...(c.ports.length ? [`ports: ${c.ports.join(', ')}`] : []),
    ...c.probes,
    ...(c.mounts.length ? ['mounts:', ...c.mounts.map((m) => `  ${m}`)] : []),
    ...(c.env.length || c.envFrom.length ? ['env:', ...c.envFrom.map((e) => `  ${e}`), ...c.env.map((e) => `  ${e}`)] : []),
  ];
}

function workloadLine(d: V1Deployment, strategyLine: string | undefined): string {
  const want = d.spec?.replicas ?? 1;
  const ready = d.status?.readyReplicas ?? 0;
  if (strategyLine)
    return `${ready} of ${want} ready · ${strategyLine}${d.spec?.minReadySeconds ? ` · minReadySeconds ${d.spec.minReadySeconds}` : ''}`;
  const strategy = d.spec?.strategy?.type ?? 'RollingUpdate';
  const rolling = d.spec?.strategy?.rollingUpdate;
  const knobs =
    strategy === 'RollingUpdate'
      ? ` (maxSurge ${String(rolling?.maxSurge ?? '25%')}, maxUnavailable ${String(rolling?.maxUnavailable ?? '25%')})`
      : '';
  return `${ready} of ${want} ready · strategy ${strategy}${knobs}${d.spec?.minReadySeconds ? ` · minReadySeconds ${d.spec.minReadySeconds}` : ''}`;
}

export function eventLines(groups: readonly EventGroup[], now: number): string[] {
  return groups.map(
    (g) =>
      `${g.type === 'Warning' ? '⚠' : '·'} ${g.reason} ×${g.count}, last ${age(new Date(g.lastSeen), now)} ago on ${g.objects.slice(0, 3).join(', ')}${g.objects.length > 3 ? ` +${g.objects.length - 3}` : ''}: ${g.message}`,
  );
}

function clip(text: string): string {
  return text.length <= MAX_SECTION_CHARS ? text : `${text.slice(0, MAX_SECTION_CHARS - 1)}…`;
}

/**
 * `describe`: what runs and why. Everything from the cluster is escaped and sits
 * in code blocks; secrets were masked when the template was summarized.
 */
export function describeView(input: DescribeInput): DescribeView {
  const now = input.now ?? Date.now();
  const { app, env, namespace, deployment, template, pods, events } = input;
  const title = `${app} in ${env}`;
  const where = `${input.kind ?? 'Deployment'} \`${escapeMrkdwn(deployment.metadata?.name ?? app)}\` · namespace \`${escapeMrkdwn(namespace)}\` · ${escapeMrkdwn(workloadLine(deployment, input.strategy))}`;
  const blocks: Block[] = [header(`describe ${title}`), section(where)];
  const text: string[] = [`describe ${title}`, where.replace(/`/g, ''), ''];

  for (const c of template.containers) {
    const lines = containerLines(c);
    blocks.push(
      section(`*${c.role === 'init' ? 'init container' : 'container'} \`${escapeMrkdwn(c.name)}\`*\n${codeBlock(clip(lines.join('\n')))}`),
    );
    text.push(`${c.role === 'init' ? 'init container' : 'container'} ${c.name}`, ...lines.map((l) => `  ${l}`), '');
  }
  const extra = [
    ...(template.serviceAccount ? [`service account: ${template.serviceAccount}`] : []),
    ...(template.volumes.length ? [`volumes: ${template.volumes.join('; ')}`] : []),
    ...(template.placement.length ? [`placement: ${template.placement.join('; ')}`] : ['placement: any node']),
  ];
  blocks.push(context(escapeMrkdwn(extra.join(' · '))));
  text.push(...extra, '');

  const pods_ = pods.length ? podTable(pods, now) : '(no pods)';
  const lastStates = pods.flatMap((p) =>
    (p.status?.containerStatuses ?? [])
      .filter((s) => s.lastState?.terminated)
      .map(
        (s) =>
          `${p.metadata?.name ?? '?'}/${s.name} last ended ${s.lastState!.terminated!.reason ?? 'Terminated'} (exit ${s.lastState!.terminated!.exitCode})`,
      ),
  );
  blocks.push(section(`*Pods*\n${codeBlock(clip([pods_, ...lastStates].join('\n')))}`));
  text.push('pods', pods_, ...lastStates, '');

  const shownEvents = eventLines(events.slice(0, INLINE_EVENT_GROUPS), now);
  blocks.push(section(`*Recent events*\n${events.length ? codeBlock(clip(shownEvents.join('\n'))) : '_none in the last hour_'}`));
  text.push('recent events', ...(events.length ? eventLines(events, now) : ['(none)']));

  const fullText = `${text.join('\n')}\n`;
  const tooLong =
    blocks.length > MAX_INLINE_BLOCKS || fullText.length > 12_000 || blocks.some((b) => JSON.stringify(b).length > MAX_SECTION_CHARS + 200);
  const summary: SlackMessage = {
    text: `describe ${title}`,
    blocks: [
      header(`describe ${title}`),
      section(where),
      context(
        `${template.containers.length} container(s), ${pods.length} pod(s), ${events.length} event group(s) — the full description is in the attached file.`,
      ),
    ],
  };
  return { message: { text: `describe ${title}`, blocks }, fits: !tooLong, summary, fullText };
}

/** `events`: grouped by reason, newest first. */
export function eventsView(input: {
  app: string;
  env: string;
  sinceLabel: string;
  warningsOnly: boolean;
  groups: readonly EventGroup[];
  now?: number;
}): SlackMessage {
  const now = input.now ?? Date.now();
  const scope = `${input.warningsOnly ? 'warnings' : 'events'} of ${input.app} in ${input.env}, last ${input.sinceLabel}`;
  if (input.groups.length === 0) {
    const text = `No ${scope}.`;
    return { text, blocks: [section(escapeMrkdwn(text))] };
  }
  const total = input.groups.reduce((n, g) => n + g.count, 0);
  const lines = eventLines(input.groups, now);
  // Keep whole lines within a section; the rest is counted, not cut mid-line.
  const shown: string[] = [];
  let size = 0;
  for (const line of lines) {
    const clipped = line.length > 400 ? `${line.slice(0, 399)}…` : line;
    const escaped = escapeMrkdwn(clipped);
    if (size + escaped.length + 1 > MAX_SECTION_CHARS - 20) break;
    shown.push(clipped); // codeBlock escapes
    size += escaped.length + 1;
  }
  const more = lines.length - shown.length;
  return {
    text: `${total} ${scope}`,
    blocks: [
      section(`*${escapeMrkdwn(`${total} ${scope}`)}* (${input.groups.length} reason${input.groups.length === 1 ? '' : 's'})`),
      section(codeBlock(shown.join('\n'))),
      ...(more > 0 ? [context(`${more} more reason${more === 1 ? '' : 's'} not shown — narrow with \`--since\` or \`--warnings\`.`)] : []),
    ],
  };
}
