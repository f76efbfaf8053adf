import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { appArg, envArg, nameArg } from '../src/command/schemas.js';
import { notFound } from '../src/errors/index.js';
import { listPods, listPodsBySelector } from '../src/kube/pods.js';
import { appTarget } from '../src/command/workload-target.js';
import { requireApp } from '../src/config/lookup.js';
import { podSelector } from '../src/kube/workloads/types.js';
import { formatDuration, parseDuration } from '../src/config/duration.js';
import { MAX_GREP_PATTERN, compileLogGrep } from '../src/kube/log-grep.js';
import {
  DEFAULT_LOG_LINES,
  MAX_LOG_LINES,
  MAX_LOG_PODS,
  labelLogLines,
  readLogStreams,
  selectLogTargets,
  singleStreamProblem,
} from '../src/kube/logs.js';
import { codeBlock, context, escapeMrkdwn, mention, section } from '../src/slack/blocks.js';
import { inviteHint } from '../src/slack/errors.js';
import { uploadTextFile } from '../src/slack/upload.js';
import { DEFAULT_FOLLOW_MS, MAX_FOLLOW_MS, followLogs, requestTailStop } from '../src/log-tail/follow.js';

/** Up to this much goes inline as a code block; more goes up as a file. */
const INLINE_MAX_LINES = 40;
const INLINE_MAX_CHARS = 2_500;
const MAX_SINCE_MS = 7 * 24 * 60 * 60 * 1_000;

const schema = z
  .object({
    app: appArg,
    env: envArg,
    lines: z
      .string()
      .regex(/^\d{1,7}$/, 'lines must be a whole number, e.g. `--lines 200`')
      .transform(Number)
      .pipe(
        z
          .number()
          .min(1, 'lines is at least 1')
          .max(MAX_LOG_LINES, `lines is at most ${MAX_LOG_LINES.toLocaleString('en-US')}`),
      )
      .optional(),
    previous: z.boolean().default(false),
    pod: z
      .string()
      .max(253, 'pod is at most 253 characters')
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'pod must be a pod name (lowercase letters, digits, "-", ".")')
      .optional(),
    container: nameArg('container').optional(),
    grep: z.string().min(1).max(MAX_GREP_PATTERN, `grep pattern is at most ${MAX_GREP_PATTERN} characters`).optional(),
    since: z
      .string()
      .max(20, 'since is a duration like `10m` or `2h`')
      .transform((text, ctx) => {
        const ms = parseDuration(text);
        if (ms === undefined || ms < 1_000 || ms > MAX_SINCE_MS) {
          ctx.addIssue({ code: 'custom', message: 'since must be a duration from `1s` to `7d`, e.g. `10m`' });
          return z.NEVER;
        }
        return ms;
      })
      .optional(),
    /** `--follow` alone is true; `--follow 2m` a duration. */
    follow: z
      .union([z.literal(true), z.string()])
      .transform((v, ctx) => {
        const ms = v === true ? DEFAULT_FOLLOW_MS : parseDuration(v);
        if (ms === undefined || ms < 5_000 || ms > MAX_FOLLOW_MS) {
          ctx.addIssue({ code: 'custom', message: 'follow lasts from `5s` to `10m`, e.g. `--follow 2m` (default 60s)' });
          return z.NEVER;
        }
        return ms;
      })
      .optional(),
    /** Set by a live tail's Stop button: the tail to stop (its request id). */
    stop: z
      .string()
      .regex(/^[a-f0-9]{24}$/, 'stop takes the id of a live tail, as its Stop button sends it')
      .optional(),
  })
  .refine((a) => !(a.follow !== undefined && a.previous), {
    error: '`--follow` reads containers as they run and `--previous` ones that ended: use one',
    path: ['follow'],
  });
type Args = z.infer<typeof schema>;

const FOLLOW_VALUE = /^\d{1,4}(s|m)$/;

export default defineVerb<Args>({
  verb: 'logs',
  summary: "Recent log lines of an app's pods (one pod with --pod), searched with --grep; long output comes as a file",
  usage: 'logs <app> <env> [--lines N] [--since D] [--grep P] [--follow [D]] [--previous] [--pod P] [--container C]',
  example: 'logs myapp beta --lines 200',
  class: 'read',
  runsIn: 'worker',
  positionals: ['app', 'env'],
  flags: {
    lines: 'value',
    previous: 'boolean',
    pod: 'value',
    container: 'value',
    grep: 'value',
    since: 'value',
    follow: { optionalValue: FOLLOW_VALUE },
    stop: 'value',
  },
  schema,
  target: ({ app, env }) => ({ app, env }),
  check: ({ app }, config) => void requireApp(config, app),
  showsAlertLogs: true,
  describe: ({ app, env, pod, previous, follow, stop }) =>
    stop
      ? `stop the live tail of ${app} in ${env}`
      : `${follow ? 'live tail of ' : 'logs of '}${pod ? `pod ${pod} (${app})` : app} in ${env}${previous ? ' (previous containers)' : ''}`,
  async run(ctx) {
    const { app, env: envName, previous, pod, container, since, follow, stop } = ctx.args;
    if (stop) {
      const stopped = await requestTailStop(ctx.services, stop, ctx.request.channelId);
      const answers = {
        stopping: ':stop_button: Stopping the live tail; its last lines and a file follow in its thread.',
        unknown: 'That live tail has already ended.',
        elsewhere: ':no_entry: That live tail runs in another channel; stop it from there.',
      };
      await ctx.reply({ text: answers[stopped] });
      return;
    }
    const lines = ctx.args.lines ?? DEFAULT_LOG_LINES;
    // Compiled before any cluster call, so a refused pattern changes nothing and costs nothing.
    const grep = ctx.args.grep ? compileLogGrep(ctx.args.grep) : undefined;
    const { cluster, namespace } = ctx.environment(envName);
    // The pods the app's workload selects (an adopted one keeps its own labels); not deployed yet = none.
    const t = appTarget(ctx, app, envName);
    const live = await t.ops.readIfExists(cluster, namespace, t.target.name);
    const pods = live ? await listPodsBySelector(cluster, namespace, podSelector(live), app) : await listPods(cluster, namespace, app);
    const { targets, omittedPods } = selectLogTargets(app, namespace, pods, {
      previous,
      ...(pod ? { pod } : {}),
      ...(container ? { container } : {}),
    });
    const search = grep ? `${grep.mode === 'regex' ? 'matching' : 'containing'} \`${ctx.args.grep!.replace(/`/g, "'")}\`, ` : '';
    if (follow !== undefined) {
      const selector = live ? podSelector(live) : undefined;
      return followLogs(ctx, {
        app,
        env: envName,
        cluster,
        namespace,
        listPods: () => (selector ? listPodsBySelector(cluster, namespace, selector, app) : listPods(cluster, namespace, app)),
        ...(pod ? { pod } : {}),
        ...(container ? { container } : {}),
        ...(grep ? { match: (line: string) => grep.filter([line]).length > 0 } : {}),
        search,
        durationMs: follow,
        duration: formatDuration(follow),
      });
    }
    // A search reads as far back as a chat answer allows, then keeps the last `lines` matches.
    const read = await readLogStreams(cluster, namespace, targets, {
      lines: grep ? MAX_LOG_LINES : lines,
      previous,
      ...(since ? { sinceSeconds: Math.round(since / 1_000) } : {}),
    });
    const streams = grep
      ? read.map((s) => {
          const matches = grep.filter(s.lines).slice(-lines);
          return { ...s, lines: matches, ...(matches.length === 0 && !s.note ? { note: 'no matching lines' } : {}) };
        })
      : read;
    const problem = grep ? undefined : singleStreamProblem(streams);
    if (problem) throw problem;
    if (previous && streams.every((s) => s.lines.length === 0)) {
      throw notFound(
        `No previous container for any pod of ${app} in ${envName}: none has restarted. Drop \`--previous\` for the current logs.`,
      );
    }

    const podCount = new Set(streams.map((s) => s.pod)).size;
    const labelled = labelLogLines(streams);
    const lineCount = streams.reduce((n, s) => n + s.lines.length, 0);
    const window = since ? `, last ${formatDuration(since)}` : '';
    const scope = `${previous ? 'previous containers, ' : ''}${search}last ${lines} line${lines === 1 ? '' : 's'} per container${window}, ${podCount} pod${podCount === 1 ? '' : 's'}`;
    const notes = [
      ...streams.filter((s) => s.lines.length === 0 && s.note).map((s) => `\`${s.pod}/${s.container}\`: ${escapeMrkdwn(s.note!)}`),
      ...(omittedPods > 0 ? [`${omittedPods} more pod(s) not read (at most ${MAX_LOG_PODS} at once) — pick one with \`--pod\``] : []),
    ];
    const title = `Logs of ${app} in ${envName} (${scope})`;
    const body = labelled.join('\n');

    if (labelled.length <= INLINE_MAX_LINES && body.length < INLINE_MAX_CHARS) {
      await ctx.reply({
        text: `${escapeMrkdwn(title)}\n${escapeMrkdwn(body)}`,
        blocks: [
          section(`*${escapeMrkdwn(title)}*`),
          section(codeBlock(body || (grep ? '(no matching lines)' : '(no log lines)'))),
          ...(notes.length ? [context(notes.join(' · '))] : []),
        ],
      });
      return;
    }

    const stamp = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}Z$/, 'Z');
    const filename = `logs-${app}-${envName}${pod ? `-${pod}` : ''}-${stamp}.txt`;
    const uploaded = await uploadTextFile(
      ctx.services.slack,
      {
        channelId: ctx.request.channelId,
        ...(ctx.request.threadTs ? { threadTs: ctx.request.threadTs } : {}),
        filename,
        title,
        content: `${body}\n`,
        initialComment: `:page_facing_up: ${escapeMrkdwn(title)} — ${lineCount.toLocaleString('en-US')} lines, for ${mention(ctx.request.userId)}`,
      },
      ctx.log,
    );
    if (uploaded.ok) {
      const text = `:page_facing_up: ${lineCount.toLocaleString('en-US')} log lines of ${app} in ${envName} are in this channel as \`${filename}\`${uploaded.permalink ? ` (<${uploaded.permalink}|open>)` : ''}.`;
      await ctx.reply({ text, blocks: [section(text), ...(notes.length ? [context(notes.join(' · '))] : [])] });
      return;
    }
    // Could not share the file: show the end of it here instead, and say why.
    const tail = labelled.slice(-INLINE_MAX_LINES);
    while (tail.length > 1 && tail.join('\n').length > INLINE_MAX_CHARS) tail.shift();
    const tailText = tail.join('\n');
    const why = uploaded.notInChannel
      ? inviteHint(ctx.request.channelId)
      : `:warning: I could not upload the logs as a file (Slack answered \`${uploaded.code}\`); try again in a minute.`;
    await ctx.reply({
      text: `${why}\nLast ${tail.length} of ${labelled.length} lines:\n${escapeMrkdwn(tailText)}`,
      blocks: [
        section(why),
        section(`*Last ${tail.length} of ${labelled.length} lines* (${escapeMrkdwn(scope)})`),
        section(codeBlock(tailText)),
        ...(notes.length ? [context(notes.join(' · '))] : []),
      ],
    });
  },
});
