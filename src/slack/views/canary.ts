import type { TrackStats } from '../../kube/canary.js';
import { shareText } from '../../kube/canary.js';
import { actions, codeBlock, context, escapeMrkdwn, mention, section, type ButtonSpec, type SlackMessage } from '../blocks.js';

export interface CanaryView {
  app: string;
  env: string;
  version: string;
  stableImage: string;
  image: string;
  steps: number[];
  step: number;
  stableReplicas: number;
  canaryReplicas: number;
  userId: string;
  expiresAt: number;
  maxRestarts: number;
  maxUnready: number;
  /** Promote (next step, absent at the last), Promote fully, Abort: intent ids and the action_id they run under. */
  buttons: { promote?: string; full: string; abort: string };
  actionId: string;
}

const row = (label: string, stable: string | number, canary: string | number) =>
  `${label.padEnd(12)} ${String(stable).padEnd(10)} ${canary}`;

function table(stable: TrackStats, canary: TrackStats): string {
  return [
    row('', 'stable', 'canary'),
    row('ready', `${stable.ready}/${stable.pods}`, `${canary.ready}/${canary.pods}`),
    row('restarts', stable.restarts, canary.restarts),
    row('OOMKills', stable.oomKills, canary.oomKills),
    row('crash loops', stable.crashLoops, canary.crashLoops),
    row('not ready', stable.unready, canary.unready),
  ].join('\n');
}

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);
const stamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The canary's live message: share, stable vs canary, and the buttons while it runs. */
export function canaryMessage(v: CanaryView, stats: { stable: TrackStats; canary: TrackStats } | undefined, now: number): SlackMessage {
  const percent = v.steps[v.step] ?? 0;
  const share = shareText(v.canaryReplicas, v.stableReplicas);
  const head = `:hatching_chick: Canary of *${escapeMrkdwn(v.app)}* in *${escapeMrkdwn(v.env)}*: \`${escapeMrkdwn(v.version)}\` on ${share} (step ${v.step + 1} of ${v.steps.length}: ${percent} %), started by ${mention(v.userId)}`;
  const next = v.steps[v.step + 1];
  const buttons: ButtonSpec[] = [
    ...(v.buttons.promote && next !== undefined
      ? [{ text: `Promote to ${next} %`, actionId: `${v.actionId}:canary-promote`, value: v.buttons.promote, style: 'primary' as const }]
      : []),
    {
      text: 'Promote fully',
      actionId: `${v.actionId}:canary-full`,
      value: v.buttons.full,
      ...(next === undefined ? { style: 'primary' as const } : {}),
    },
    { text: 'Abort', actionId: `${v.actionId}:canary-abort`, value: v.buttons.abort, style: 'danger' },
  ];
  const text = `${head}\n${stats ? `stable ${stats.stable.ready}/${stats.stable.pods} ready, canary ${stats.canary.ready}/${stats.canary.pods} ready` : ''}`;
  return {
    text,
    blocks: [
      section(head),
      section(
        `stable \`${escapeMrkdwn(v.stableImage)}\`\ncanary \`${escapeMrkdwn(v.image)}\`${stats ? `\n${codeBlock(table(stats.stable, stats.canary))}` : ''}`,
      ),
      actions('canary', buttons),
      context(
        `Auto-abort when the canary's pods restart more than ${v.maxRestarts} time${v.maxRestarts === 1 ? '' : 's'} (crash loop, OOMKill) or one stays unready over ${Math.round(v.maxUnready / 1_000)} s; aborted at ${stamp(v.expiresAt)} if still running. Updated ${clock(now)} UTC · \`/k8s promote ${v.app} ${v.env} [--full]\`, \`/k8s abort ${v.app} ${v.env}\``,
      ),
    ],
  };
}

/** The live message once the canary has ended (no buttons). */
export function canaryEndedMessage(
  v: Pick<CanaryView, 'app' | 'env' | 'version'>,
  outcome: 'promoted' | 'aborted',
  why: string,
): SlackMessage {
  const text =
    outcome === 'promoted'
      ? `:white_check_mark: Canary of *${escapeMrkdwn(v.app)}* in *${escapeMrkdwn(v.env)}* promoted: \`${escapeMrkdwn(v.version)}\` is the stable version. ${why}`
      : `:no_entry_sign: Canary of *${escapeMrkdwn(v.app)}* in *${escapeMrkdwn(v.env)}* (\`${escapeMrkdwn(v.version)}\`) aborted: ${why}`;
  return { text, blocks: [section(text)] };
}
