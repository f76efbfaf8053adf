/**
 * `--dry-run`, for every write verb at once: the verb's own `run` with a
 * recorder in its context, so each write helper sends its request with
 * `dryRun=All` instead of writing; then the recorded changes as a diff.
 * The approval gate uses the same function to show approvers the diff.
 */
import type { Diff } from '../kube/diff.js';
import { DryRun } from '../kube/dry-run.js';
import { dryRunOnly } from '../kube/clusters.js';
import { appOf } from '../config/lookup.js';
import type { Progress } from '../slack/progress.js';
import { context, escapeMrkdwn, type SlackMessage } from '../slack/blocks.js';
import { dryRunMessage } from '../slack/views/diff.js';
import { uploadTextFile } from '../slack/upload.js';
import { inviteHint } from '../slack/errors.js';
import type { WorkerVerb, WorkerVerbContext } from './types.js';

/** A dry run posts nothing: no thread, no steps. */
const silentProgress: Progress = {
  threadTs: undefined,
  start: async () => undefined,
  step: async () => undefined,
  finish: async () => undefined,
};

export interface DryRunResult {
  diff: Diff;
  /** What the verb would have said instead of changing anything ("nothing to roll back: …"). */
  notes: string[];
}

/**
 * Runs the verb as a dry run: same code path as the real change, every write
 * sent with `dryRun=All` and recorded, nothing written, posted or queued.
 * Secret values (the app's `secretKeys`, Secrets) are masked; masked values are
 * fingerprinted with the bot's signing key so the digest still tells them apart.
 */
export async function dryRunVerb(ctx: WorkerVerbContext<unknown>, verb: WorkerVerb, app?: string): Promise<DryRunResult> {
  const recorder = new DryRun();
  const notes: string[] = [];
  const note = async (m: SlackMessage) => void notes.push(m.text.slice(0, 500));
  await verb.run({
    ...ctx,
    dryRun: recorder,
    progress: silentProgress,
    reply: note,
    replyInChannel: note,
    // Belt and braces: a write that is not a dry run is refused before it leaves.
    environment: (name) => {
      const env = ctx.environment(name);
      return { ...env, cluster: dryRunOnly(env.cluster) };
    },
  });
  const secretKeys = (app ? appOf(ctx.config, app)?.secretKeys : undefined) ?? [];
  const signer = ctx.services.signer;
  return { diff: recorder.diff({ secretKeys, fingerprint: (value) => signer.sign('diff-secret', value).slice(0, 24) }), notes };
}

/** Answers a `--dry-run` privately: the diff inline, or its start inline and the whole as a file when long. */
export async function answerDryRun(ctx: WorkerVerbContext<unknown>, what: string, result: DryRunResult): Promise<void> {
  const { view, message } = dryRunMessage(result.diff, what, result.notes);
  if (view.fits) {
    await ctx.reply(message);
    return;
  }
  const uploaded = await uploadTextFile(
    ctx.services.slack,
    {
      channelId: ctx.request.channelId,
      ...(ctx.request.threadTs ? { threadTs: ctx.request.threadTs } : {}),
      filename: 'dry-run.diff',
      title: `dry run: ${what}`,
      content: view.fullText,
      initialComment: `:mag: The whole diff of the dry run of \`${escapeMrkdwn(what)}\` (nothing was written).`,
    },
    ctx.log,
  );
  const why = uploaded.ok
    ? undefined
    : uploaded.notInChannel
      ? inviteHint(ctx.request.channelId)
      : `:warning: The diff is too long to show here and I could not upload it as a file (Slack answered \`${uploaded.code}\`).`;
  await ctx.reply(why ? { ...message, blocks: [...(message.blocks ?? []), context(why)] } : message);
}
