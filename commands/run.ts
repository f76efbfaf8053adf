import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { appArg, envArg, nameArg } from '../src/command/schemas.js';
import { formatDuration } from '../src/config/duration.js';
import { badInput, notFound } from '../src/errors/index.js';
import { LABEL_DEBUG_OF } from '../src/kube/debug-copy.js';
import { execInPod } from '../src/kube/exec.js';
import { listPods } from '../src/kube/pods.js';
import { codeBlock, context, escapeMrkdwn, mention, section } from '../src/slack/blocks.js';
import { uploadTextFile } from '../src/slack/upload.js';
import { requireApp } from '../src/config/lookup.js';

/** Output up to this size goes in the thread as a code block; more goes up as a file. */
const INLINE_MAX_CHARS = 2_500;

const schema = z.object({
  app: appArg,
  env: envArg,
  task: nameArg('task'),
  pod: z
    .string()
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'pod must be a pod name (lowercase letters, digits, "-", ".")')
    .optional(),
});
type Args = z.infer<typeof schema>;

function taskOf(config: Parameters<typeof requireApp>[0], app: string, task: string) {
  const tasks = requireApp(config, app).tasks;
  if (!Object.hasOwn(tasks, task)) {
    const known = Object.keys(tasks);
    throw badInput(
      known.length
        ? `\`${task}\` is not one of ${app}'s tasks: ${known.map((t) => `\`${t}\``).join(', ')}. Tasks are declared by ops in the bot's config, never typed here.`
        : `${app} has no tasks. Ops declare them per app in the bot's config (\`tasks: { name: [command, args…] }\`).`,
    );
  }
  return tasks[task]!;
}

export default defineVerb<Args>({
  verb: 'run',
  summary:
    "Runs one of the app's allow-listed tasks (declared in config, never typed) in one of its pods, and reports the output and exit code",
  usage: 'run <app> <env> <task> [--pod P]',
  example: 'run myapp beta jvm-flags',
  class: 'admin',
  runsIn: 'worker',
  positionals: ['app', 'env', 'task'],
  flags: { pod: 'value' },
  schema,
  target: ({ app, env }) => ({ app, env }),
  check: ({ app, task }, config) => void taskOf(config, app, task),
  makesRevision: false,
  // A task's class comes from config (`tasks.<name>.class`, admin by default); every run is audited with its exit code.
  classFor: ({ app, task }, config) => {
    const tasks = Object.hasOwn(config.apps, app) ? config.apps[app]!.tasks : {};
    return Object.hasOwn(tasks, task) ? tasks[task]!.class : 'admin';
  },
  auditsReads: true,
  noDryRun:
    '`run` executes a command inside a pod; the Kubernetes API cannot dry-run an exec, so there is no diff to show. `/k8s help run` says what the task runs.',
  describe: ({ app, env, task }) => `task ${task} of ${app} in ${env}`,
  async run(ctx) {
    const { app, env: envName, task: taskName } = ctx.args;
    const task = taskOf(ctx.config, app, taskName);
    const { cluster, namespace } = ctx.environment(envName);
    const pods = (await listPods(cluster, namespace, app)).filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
    // --pod may also name one of the app's debug copies (they carry none of its labels).
    const copies = ctx.args.pod ? (await listPods(cluster, namespace)).filter((p) => p.metadata?.labels?.[LABEL_DEBUG_OF] === app) : [];
    const pod = ctx.args.pod ? [...pods, ...copies].find((p) => p.metadata?.name === ctx.args.pod) : pods[0];
    if (!pod)
      throw notFound(
        ctx.args.pod
          ? `Pod \`${ctx.args.pod}\` is not a running pod (or debug copy) of ${app} in ${envName}.`
          : `No running pod of ${app} in ${envName} to run \`${taskName}\` in.`,
      );
    const podName = pod.metadata?.name ?? '?';
    const container = task.container ?? pod.spec?.containers[0]?.name ?? app;
    const argv = task.command.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : JSON.stringify(w))).join(' ');

    await ctx.progress.start({ text: `:gear: task \`${taskName}\` of ${app} in ${envName}, requested by ${mention(ctx.request.userId)}` });
    await ctx.progress.step(
      `running \`${escapeMrkdwn(argv)}\` in pod \`${escapeMrkdwn(podName)}\` (container \`${escapeMrkdwn(container)}\`), at most ${formatDuration(task.timeout)}`,
    );
    const started = Date.now();
    const result = await execInPod(cluster, namespace, podName, container, task.command, task.timeout);
    const took = formatDuration(Date.now() - started);
    const output = [result.stdout, result.stderr ? `--- stderr ---\n${result.stderr}` : ''].filter(Boolean).join('\n').trimEnd();
    const outcome = result.timedOut
      ? `:hourglass: task \`${taskName}\` of ${app} in ${envName} did not finish within ${formatDuration(task.timeout)} and was abandoned`
      : result.exitCode === 0
        ? `:white_check_mark: task \`${taskName}\` of ${app} in ${envName} — exit code 0, in ${took}`
        : `:x: task \`${taskName}\` of ${app} in ${envName} — exit code ${result.exitCode}, in ${took}`;
    ctx.log.info({ task: taskName, app, env: envName, pod: podName, exitCode: result.exitCode, timedOut: result.timedOut }, 'task ran');

    let body: ReturnType<typeof section>[];
    if (output.length <= INLINE_MAX_CHARS) {
      body = [section(codeBlock(output || '(no output)'))];
    } else {
      const uploaded = await uploadTextFile(
        ctx.services.slack,
        {
          channelId: ctx.request.channelId,
          ...(ctx.progress.threadTs ? { threadTs: ctx.progress.threadTs } : {}),
          filename: `task-${app}-${envName}-${taskName}.txt`,
          title: `task ${taskName} of ${app} in ${envName}`,
          content: `${output}\n`,
        },
        ctx.log,
      );
      body = uploaded.ok
        ? [context(`${output.length.toLocaleString('en-US')} characters of output are in the file above.`)]
        : [
            section(`Last part of the output (the file upload failed: \`${uploaded.code}\`):`),
            section(codeBlock(output.slice(-INLINE_MAX_CHARS))),
          ];
    }
    const details = {
      text: `${outcome}\n${escapeMrkdwn(output.slice(0, 500))}`,
      blocks: [
        section(outcome),
        ...body,
        ...(result.droppedBytes ? [context(`${result.droppedBytes.toLocaleString('en-US')} more bytes of output were not kept.`)] : []),
      ],
    };
    const failed = result.timedOut || result.exitCode !== 0;
    await ctx.progress.finish(
      failed ? 'failed' : 'succeeded',
      { text: `${outcome}, requested by ${mention(ctx.request.userId)}` },
      details,
    );
    return {
      outcome: failed ? 'failed' : 'succeeded',
      detail: result.timedOut
        ? `task ${taskName} in pod ${podName}: no exit code, abandoned after ${formatDuration(task.timeout)}`
        : `task ${taskName} in pod ${podName}: exit code ${result.exitCode}`,
    };
  },
});
