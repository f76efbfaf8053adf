import { formatDuration } from '../../config/duration.js';
import type { AppDiagnosis } from '../../kube/diagnose.js';
import type { RolloutState } from '../../kube/rollout.js';
import { truncate, codeBlock, context, escapeMrkdwn, mention, section, type SlackMessage } from '../blocks.js';

/**
 * ✅ (and words like "done", "complete") belong to a job's final outcome only.
 * Milestones on the way (applied, approved) use these neutral markers.
 */
export const MILESTONE = ':small_blue_diamond:';
export const APPROVED = ':thumbsup:';

/** Messages of a job's progress thread. Pure, so their wording is tested and reviewed as data. */

export function jobStarted(title: string, requesterId: string): SlackMessage {
  const text = `:rocket: ${title}, requested by ${mention(requesterId)}`;
  return { text, blocks: [section(text), context(':hourglass_flowing_sand: in progress — details in the thread')] };
}

export function jobSucceeded(title: string, requesterId: string, durationMs: number, detail?: string): SlackMessage {
  const text = `:white_check_mark: ${title} — done in ${formatDuration(durationMs)}, requested by ${mention(requesterId)}`;
  return { text, blocks: [section(text), ...(detail ? [context(detail)] : [])] };
}

/** `reason` is plain text (it may quote the cluster): escaped here. */
export function jobFailed(title: string, requesterId: string, durationMs: number, reason: string): SlackMessage {
  const text = `:x: ${title} — failed after ${formatDuration(durationMs)}: ${escapeMrkdwn(reason)}, requested by ${mention(requesterId)}`;
  return { text, blocks: [section(text)] };
}

export function rolloutStep(state: RolloutState): string {
  const icon = state.phase === 'done' ? ':white_check_mark:' : state.phase === 'failed' ? ':x:' : ':hourglass_flowing_sand:';
  return `${icon} ${state.message}`;
}

const SUGGESTIONS: Record<AppDiagnosis['problem']['kind'], string> = {
  CrashLoopBackOff: 'The container starts and exits. Read its last log lines above; fix the cause, or roll back.',
  OOMKilled:
    'The container used more memory than its limit. Raise the memory limit for this app, or find the leak; rolling back restores the last good version.',
  ImagePullBackOff:
    'The image cannot be pulled. Check the version exists in the registry (typo in the tag?) and that the cluster may pull from it.',
  Unschedulable:
    'No node can take the pod. Lower its resource requests, add capacity, or free room on the nodes (`/k8s nodes` shows requests vs allocatable).',
  ContainerError: 'The container could not be created. Check the referenced ConfigMaps/Secrets and the container settings.',
};

/** Why a rollout failed, as a senior engineer would explain it: pod, state, evidence, next step. */
export function diagnosisMessage(diagnosis: AppDiagnosis | undefined, rolloutReason: string): SlackMessage {
  if (!diagnosis) {
    const text = `*Why:* ${escapeMrkdwn(rolloutReason)}. No pod reported a problem; check \`/k8s status\` for the conditions.`;
    return { text, blocks: [section(text)] };
  }
  const { problem, logTail } = diagnosis;
  const lines = [`*Why:* pod \`${escapeMrkdwn(problem.pod)}\` — ${escapeMrkdwn(problem.summary)}`];
  if (problem.kind === 'ImagePullBackOff' && problem.image) lines.push(`*Image:* \`${escapeMrkdwn(problem.image)}\``);
  if (problem.message) lines.push(`*${problem.kind === 'Unschedulable' ? 'Scheduler' : 'Kubelet'} says:* ${escapeMrkdwn(problem.message)}`);
  const blocks = [section(lines.join('\n'))];
  if (logTail && logTail.length > 0) blocks.push(section(`*Last log lines (previous container):*\n${codeBlock(logTail.join('\n'))}`));
  blocks.push(context(`:bulb: ${SUGGESTIONS[problem.kind]}`));
  return { text: truncate(lines.join('\n'), 3_000), blocks };
}

/** Why a rollout failed when the cluster would not even create its pods: the refusal in Kubernetes' words, and what to do. */
export function refusedPodsMessage(refusal: string, namespace: string): SlackMessage {
  const text = `*Why:* the cluster refuses to create the pods — nothing new is running.\n*Kubernetes says:* ${escapeMrkdwn(refusal)}`;
  return {
    text: truncate(text, 3_000),
    blocks: [
      section(truncate(text, 3_000)),
      context(
        `:bulb: An admission check refused the pods. A missing service account: create it in \`${escapeMrkdwn(namespace)}\` or correct \`serviceAccountName\` in the app's config; a quota or a policy: ask its owner. The controller keeps retrying, so the rollout resumes once the cause is fixed; the pods already running keep serving.`,
      ),
    ],
  };
}
