import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { RUN_INTENT_ACTION } from '../src/command/intents.js';
import { appArg, envArg } from '../src/command/schemas.js';
import { formatDuration, parseDuration } from '../src/config/duration.js';
import { badInput, conflict, notFound } from '../src/errors/index.js';
import { createDebugCopy, debugCopyOf, deleteDebugCopy, listDebugCopies } from '../src/kube/debug-copy.js';
import { listPods } from '../src/kube/pods.js';
import { requestIdFrom, scheduleCommand } from '../src/queue/commands.js';
import { actions, context, escapeMrkdwn, mention, section } from '../src/slack/blocks.js';
import { requireApp } from '../src/config/lookup.js';

const DEFAULT_TTL_MS = 60 * 60 * 1_000;
const podName = z
  .string()
  .max(253, 'pod is at most 253 characters')
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'pod must be a pod name (lowercase letters, digits, "-", ".")');

const schema = z.object({
  app: appArg,
  env: envArg,
  pod: podName.optional(),
  container: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'container must be a container name')
    .max(63)
    .optional(),
  ttl: z
    .string()
    .max(20, 'ttl is a duration like `30m` or `2h`')
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined || ms < 60_000) {
        ctx.addIssue({ code: 'custom', message: 'ttl must be a duration of at least `1m`, e.g. `30m` or `2h`' });
        return z.NEVER;
      }
      return ms;
    })
    .optional(),
  delete: podName.optional(),
});
type Args = z.infer<typeof schema>;

/** `debug-expire` jobs: one per copy, so a retried create never schedules two deletes. */
const expiryJobId = (namespace: string, pod: string) => `debug-expire-${requestIdFrom([namespace, pod])}`;

export default defineVerb<Args>({
  verb: 'debug',
  summary: "A sleeping copy of one of an app's pods, outside its Service, to exec into; deleted at its TTL (or with --delete)",
  usage: 'debug <app> <env> [--pod P] [--container C] [--ttl 1h] | debug <app> <env> --delete <copy>',
  example: 'debug myapp beta --ttl 30m',
  class: 'write',
  runsIn: 'worker',
  positionals: ['app', 'env'],
  flags: { pod: 'value', container: 'value', ttl: 'value', delete: 'value' },
  schema,
  target: ({ app, env }) => ({ app, env }),
  check: ({ app, ttl }, config) => {
    requireApp(config, app);
    if (ttl !== undefined && ttl > config.debug.maxTtl) {
      throw badInput(`ttl is at most ${formatDuration(config.debug.maxTtl)} here (\`debug.maxTtl\` in the bot's config).`);
    }
  },
  // Removing a copy the bot made never waits for approval; making one does.
  onlyCleansUp: (args) => args.delete !== undefined,
  makesRevision: false,
  describe: ({ app, env, delete: copy }) => (copy ? `delete debug copy ${copy} of ${app} in ${env}` : `debug copy of ${app} in ${env}`),
  async run(ctx) {
    const { app, env: envName } = ctx.args;
    const { cluster, namespace } = ctx.environment(envName);

    if (ctx.args.delete) {
      const gone = await deleteDebugCopy(cluster, namespace, app, ctx.args.delete, { dryRun: ctx.dryRun });
      const text = gone
        ? `:wastebasket: Deleted debug copy \`${ctx.args.delete}\` of ${app} in ${envName}.`
        : `Debug copy \`${ctx.args.delete}\` of ${app} in ${envName} was already gone.`;
      // From the copy's thread (its button, its TTL job): say it there, where the copy was announced.
      if (ctx.request.threadTs) await ctx.progress.start({ text, blocks: [section(text)] });
      else await ctx.reply({ text, blocks: [section(text)] });
      return;
    }

    const ttlMs = ctx.args.ttl ?? Math.min(DEFAULT_TTL_MS, ctx.config.debug.maxTtl);
    const existing = await listDebugCopies(cluster, namespace, app);
    if (existing.length >= ctx.config.debug.maxPerApp) {
      const names = existing.map((p) => `\`${p.metadata?.name ?? '?'}\``).join(', ');
      throw conflict(
        `${app} in ${envName} already has ${existing.length} debug cop${existing.length === 1 ? 'y' : 'ies'} (${names}); at most ${ctx.config.debug.maxPerApp} at a time. Delete one with \`/k8s debug ${app} ${envName} --delete <copy>\`.`,
      );
    }
    const pods = (await listPods(cluster, namespace, app)).filter((p) => !p.metadata?.deletionTimestamp);
    const source = ctx.args.pod
      ? pods.find((p) => p.metadata?.name === ctx.args.pod)
      : [...pods].sort((a, b) => Number(b.status?.phase === 'Running') - Number(a.status?.phase === 'Running'))[0];
    if (!source) {
      throw notFound(
        ctx.args.pod
          ? `Pod \`${ctx.args.pod}\` is not a pod of ${app} in ${envName}.`
          : `No pods of ${app} in ${envName} to copy — has it been deployed?`,
      );
    }
    const now = Date.now();
    const copy = debugCopyOf(source, {
      app,
      ...(ctx.args.container ? { container: ctx.args.container } : {}),
      ttlSeconds: Math.round(ttlMs / 1_000),
      requestedBy: ctx.request.userName ?? ctx.request.userId,
      now,
      suffix: randomBytes(3).toString('hex'),
    });
    const name = copy.metadata!.name!;
    await ctx.progress.start({ text: `:mag: debug copy of ${app} in ${envName}, requested by ${mention(ctx.request.userId)}` });
    await createDebugCopy(cluster, copy, { dryRun: ctx.dryRun });
    // A dry run stops here: no delete scheduled, no button, nothing posted.
    if (ctx.dryRun) return;

    // The delete at the TTL is a delayed job in Redis: it survives restarts of every process.
    const threadTs = ctx.request.threadTs ?? ctx.progress.threadTs;
    const deleteText = `debug ${app} ${envName} --delete ${name}`;
    await scheduleCommand(
      ctx.services.queue,
      ctx.services.signer,
      {
        verb: 'debug',
        args: { app, env: envName, delete: name },
        request: {
          requestId: requestIdFrom(['debug-expire', namespace, name]),
          text: deleteText,
          userId: ctx.request.userId,
          ...(ctx.request.userName ? { userName: ctx.request.userName } : {}),
          channelId: ctx.request.channelId,
          ...(threadTs ? { threadTs } : {}),
          receivedAt: now,
        },
      },
      ttlMs,
      expiryJobId(namespace, name),
    );
    const intent = await ctx.services.intents.create({
      text: deleteText,
      channelId: ctx.request.channelId,
      ...(threadTs ? { threadTs } : {}),
    });
    const until = new Date(now + ttlMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const container = ctx.args.container ?? source.spec?.containers[0]?.name ?? '?';
    const how = `kubectl exec -it -n ${namespace} ${name} -c ${container} -- sh`;
    const text = `:mag: Debug copy \`${escapeMrkdwn(name)}\` of \`${escapeMrkdwn(source.metadata?.name ?? '?')}\`: container \`${escapeMrkdwn(container)}\` sleeps instead of running its command, without probes, labels or owner, so no Service sends it traffic. Deleted at ${until} (in ${formatDuration(ttlMs)}).`;
    await ctx.progress.finish(
      'succeeded',
      { text: `:mag: debug copy \`${name}\` of ${app} in ${envName} is ready, requested by ${mention(ctx.request.userId)}` },
      {
        text,
        blocks: [
          section(text),
          section(`Get a shell:\n\`\`\`${escapeMrkdwn(how)}\`\`\`\nthen run the app's start command by hand.`),
          actions('debug-copy', [{ text: 'Delete now', actionId: RUN_INTENT_ACTION, value: intent, style: 'danger' }]),
          context(
            `Made by ${mention(ctx.request.userId)} · at most ${ctx.config.debug.maxPerApp} copies per app · \`/k8s debug ${app} ${envName} --delete ${name}\` does the same as the button.`,
          ),
        ],
      },
    );
  },
});
