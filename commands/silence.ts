import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { envArg } from '../src/command/schemas.js';
import { formatDuration, parseDuration } from '../src/config/duration.js';
import { ownEntry } from '../src/config/lookup.js';
import { alertKinds } from '../src/config/schema.js';
import { badInput, denied } from '../src/errors/index.js';
import { allowedEnvironments, bindingFor } from '../src/policy/index.js';
import { alertQueueOn, enqueueIncident, enqueueSilenceEnd } from '../src/alerts/alert-queue.js';
import { isNodeKind } from '../src/alerts/routes.js';
import { SilenceStore, silencedIncidents, type SilenceCoverage } from '../src/alerts/silences.js';
import { escapeMrkdwn, section } from '../src/slack/blocks.js';
import { slackDate } from '../src/slack/code-sections.js';

/** The outer bounds; `silences.minDuration`/`maxDuration` in config narrow them. */
const MIN_MS = 1_000;
const MAX_MS = 30 * 86_400_000;
const USAGE = 'silence <app|node> <env> <kind> <duration> [reason]';

const schema = z.object({
  target: z
    .string()
    .max(253, 'the app or node name is at most 253 characters')
    .regex(
      /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
      'the app or node must be a name (lowercase letters, digits, "-", ".")',
    ),
  env: envArg,
  kind: z.enum(alertKinds, { error: `kind is one of ${alertKinds.join(', ')}` }),
  duration: z
    .string()
    .max(20, 'duration is like `30m`, `2h` or `1d`')
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined || ms < MIN_MS || ms > MAX_MS) {
        ctx.addIssue({ code: 'custom', message: 'duration must be like `30m`, `2h` or `1d` (at most `30d`)' });
        return z.NEVER;
      }
      return ms;
    }),
  reason: z
    .array(z.string())
    .max(60, 'the reason is at most 60 words')
    .transform((words) => words.join(' ').trim())
    .pipe(z.string().max(200, 'the reason is at most 200 characters')),
});
type Args = z.infer<typeof schema>;

const listOf = (items: readonly string[]) =>
  items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1) ?? ''}`;

/** "<#C1> (for `prod`)" per channel a node silence leaves out: their rules are for environments this channel may not touch. */
const outsideList = (outside: SilenceCoverage['outside']) =>
  listOf(outside.map((o) => `<#${o.channel}> (for ${listOf(o.environments.map((e) => `\`${e}\``))})`));

export default defineVerb<Args>({
  verb: 'silence',
  summary: "Quiet an app's (or a node's) alerts of one kind in an environment for a while",
  usage: USAGE,
  example: 'silence myapp prod OOMKilled 2h known leak, fix in 1.4.2',
  // Write: it changes what on-call is told (the channel's binding must allow `silence`), audited. It runs in the app,
  // never waits for approval (it touches no cluster and is most needed at 3 am) and expires by itself.
  class: 'write',
  runsIn: 'app',
  positionals: ['target', 'env', 'kind', 'duration', 'reason...'],
  schema,
  target: ({ target, env, kind }) => (isNodeKind(kind) ? { env } : { env, app: target }),
  check: ({ target, kind, duration }, config) => {
    const { minDuration, maxDuration } = config.silences;
    if (duration < minDuration || duration > maxDuration)
      throw badInput(
        `A silence lasts between ${formatDuration(minDuration)} and ${formatDuration(maxDuration)} here (\`silences\` in the bot's config).\nUsage: \`/k8s ${escapeMrkdwn(USAGE)}\``,
      );
    if (!isNodeKind(kind) && !ownEntry(config.apps, target))
      throw badInput(
        `\`${target}\` is not an app in the bot's config (apps: ${Object.keys(config.apps)
          .map((a) => `\`${a}\``)
          .join(
            ', ',
          )}). To quiet another workload, use the Silence button on its alert; node kinds (NodeNotReady, NodePressure) take a node name.\nUsage: \`/k8s ${escapeMrkdwn(USAGE)}\``,
      );
  },
  async run(ctx) {
    const { target, env, kind, duration, reason } = ctx.args;
    // A node is in no environment: its silence covers every channel its alert reaches that this channel may silence.
    const binding = bindingFor(ctx.config, ctx.request.channelId);
    const mayTouch = binding ? allowedEnvironments(ctx.config, binding) : [env];
    const { workload, ids, channels, outside, environments } = silencedIncidents(ctx.config, target, env, kind, mayTouch);
    if (ids.length === 0 && outside.length > 0)
      throw denied(
        `${kind} of a node goes only to ${outsideList(outside)}: environments this channel may not touch, so it may not silence it there.`,
      );
    if (ids.length === 0)
      throw badInput(
        `No alert rule posts ${kind} for \`${env}\`${isNodeKind(kind) ? ' or another environment of its cluster' : ''}, so there is nothing to silence. Rules are under \`alerts\` in the bot's config (\`on: [...]\`).`,
      );
    const now = Date.now();
    const until = now + duration;
    const store = new SilenceStore(ctx.services.redis, ctx.services.prefix);
    const { record, noted } = await store.set(
      {
        target,
        workload,
        env,
        kind,
        until,
        by: ctx.request.userId,
        channel: ctx.request.channelId,
        ...(reason ? { reason } : {}),
        incidents: ids,
        ...(isNodeKind(kind) ? { environments } : {}),
      },
      now,
      { choice: formatDuration(duration) },
    );
    // Open incidents say so in their thread and their headline; every covered one drops "silenced" when it ends.
    const queue = alertQueueOn(ctx.services.redis, ctx.services.prefix);
    await Promise.all(noted.map((id) => enqueueIncident(queue, id, false)));
    await Promise.all(ids.map((id) => enqueueSilenceEnd(queue, id, until, now)));
    await ctx.services.audit.record({
      outcome: 'succeeded',
      verb: 'silence',
      command: ctx.request.text.slice(0, 200),
      userId: ctx.request.userId,
      channelId: ctx.request.channelId,
      env,
      ...(isNodeKind(kind) ? {} : { app: target }),
      ref: record.id,
    });
    const what = `${kind} of ${workload.kind === 'Node' ? 'node' : 'app'} \`${escapeMrkdwn(target)}\` in \`${env}\``;
    const where = isNodeKind(kind)
      ? ` Covers its alerts in ${listOf(channels.map((c) => `<#${c}>`))}${outside.length ? `; not in ${outsideList(outside)}: environments this channel may not touch` : ''}.`
      : '';
    const text = `:no_bell: Silenced ${what} for ${formatDuration(duration)}, until ${slackDate(until)} — \`${record.id}\`${reason ? `. Reason: ${escapeMrkdwn(reason)}` : ''}.${where} ${noted.length ? 'Noted in the open incident’s thread. ' : ''}\`/k8s unsilence ${record.id}\` lifts it.`;
    await ctx.replyInChannel({ text, blocks: [section(text)] });
  },
});
