import type { V1ConfigMap } from '@kubernetes/client-node';
import { z } from 'zod';
import { defineVerb, type WorkerVerbContext } from '../src/command/types.js';
import { appArg, envArg } from '../src/command/schemas.js';
import {
  configLines,
  diffConfig,
  displayValue,
  parseConfigChange,
  patchConfigMap,
  SECRET_MASK,
  readConfigMap,
  configChecksumPatch,
  type ConfigChange,
  type KeyChange,
} from '../src/kube/configmap.js';
import { PatchStrategy, type V1Deployment } from '@kubernetes/client-node';
import { appWorkload, type AppWorkload } from '../src/config/apps.js';
import type { Config } from '../src/config/schema.js';
import { conflict } from '../src/errors/index.js';
import { appTarget, followed, readAppWorkload, rolloutTimeout } from '../src/command/workload-target.js';
import { requireApp } from '../src/config/lookup.js';
import { FIELD_MANAGER_CONFIG } from '../src/kube/configmap.js';
import { refusePaused } from '../src/kube/deployments.js';
import { restartPatch, restartTimestamp } from '../src/kube/restart.js';
import { ANNOTATION_CONFIG_CHECKSUM, appForEnvironment, checksum } from '../src/kube/render.js';
import { describeManager, gitopsTracker } from '../src/kube/workloads/ownership.js';
import { codeBlock, context, escapeMrkdwn, section, type SlackMessage } from '../src/slack/blocks.js';
import { runRolloutJob } from '../src/worker/rollout-job.js';
import { appOf } from '../src/config/lookup.js';

const schema = z
  .object({
    app: appArg,
    env: envArg,
    action: z.enum(['get', 'set', 'unset'], 'the action is `get`, `set KEY=VALUE...` or `unset KEY...`').default('get'),
    words: z.array(z.string()).default([]),
  })
  .transform(({ app, env, action, words }, ctx) => {
    if (action === 'get') {
      if (words.length === 0) return { app, env, action };
      ctx.addIssue({ code: 'custom', path: ['get'], message: `takes nothing more (found \`${words[0]!.slice(0, 40)}\`)` });
      return z.NEVER;
    }
    const parsed = parseConfigChange(action, words);
    if ('problem' in parsed) {
      ctx.addIssue({ code: 'custom', path: [action], message: parsed.problem });
      return z.NEVER;
    }
    return { app, env, action, change: parsed.change };
  });
type Args = z.infer<typeof schema>;

const keysOf = (change: ConfigChange) => (change.action === 'set' ? Object.keys(change.values) : change.keys);

function listKeys(keys: readonly string[]): string {
  return keys.length <= 3 ? keys.join(', ') : `${keys.slice(0, 3).join(', ')} and ${keys.length - 3} more`;
}

/** A value as the thread shows it: masked if secret, short, safe inside an inline code span. */
function shown(key: string, value: string, secretKeys: readonly string[]): string {
  return `\`${escapeMrkdwn(displayValue(key, value, secretKeys, 60).replace(/`/g, "'"))}\``;
}

function describeChange(c: KeyChange, secretKeys: readonly string[]): string {
  if (c.after === undefined) return `${c.key} removed`;
  if (c.before === undefined) return `${c.key} = ${shown(c.key, c.after, secretKeys)} (new)`;
  return secretKeys.includes(c.key)
    ? `${c.key} changed (secret)`
    : `${c.key}: ${shown(c.key, c.before, secretKeys)} → ${shown(c.key, c.after, secretKeys)}`;
}

/**
 * What the next deploy does to these changes: it applies the keys the bot's
 * config file declares (with their configured values) and leaves the others.
 */
function deployNotes(changes: readonly KeyChange[], fileEnv: Readonly<Record<string, string>>, secretKeys: readonly string[]): string[] {
  return changes
    .filter((c) => Object.hasOwn(fileEnv, c.key) && c.after !== fileEnv[c.key])
    .map((c) =>
      c.after === undefined
        ? `the next deploy sets ${c.key} again (it is in the bot's config)`
        : `the next deploy puts ${c.key} back to ${shown(c.key, fileEnv[c.key]!, secretKeys)} from the bot's config`,
    );
}

function configView(
  app: string,
  envName: string,
  configMap: V1ConfigMap,
  secretKeys: readonly string[],
  fileEnv: Readonly<Record<string, string>>,
): SlackMessage {
  const name = configMap.metadata?.name ?? '?';
  const data = configMap.data ?? {};
  const lines = configLines(data, secretKeys);
  const binary = Object.keys(configMap.binaryData ?? {});
  const headline = `*${name}* · ${envName} (namespace ${configMap.metadata?.namespace ?? '?'}) — ${lines.length} key${lines.length === 1 ? '' : 's'}`;
  const notes = [
    ...(binary.length ? [`binary keys not shown: ${binary.join(', ')}`] : []),
    ...(Object.keys(data).some((k) => secretKeys.includes(k))
      ? ["values of secret keys (`secretKeys` in the bot's config) are hidden"]
      : []),
    `\`/k8s config ${app} ${envName} set KEY=VALUE\` changes a value and rolls the pods`,
    ...(Object.keys(fileEnv).length
      ? [
          `the next deploy puts back the keys of the bot's config (${listKeys(Object.keys(fileEnv).sort())}); keys added here stay until unset`,
        ]
      : []),
  ];
  const shownLines = escapeMrkdwn(lines.join('\n'));
  return {
    text: `${headline}\n${shownLines}`,
    blocks: [section(headline), section(lines.length ? codeBlock(lines.join('\n')) : '_No keys._'), context(notes.join(' · '))],
  };
}

/** The queued ack's and the thread's title: keys, never values. */
function describe(args: Args): string {
  return args.action === 'get'
    ? `config of ${args.app} in ${args.env}`
    : `config ${args.action} ${listKeys(keysOf(args.change))} on ${args.app} in ${args.env}`;
}

/**
 * What `config` edits: the rendered app's `<app>-config`, or the ConfigMap an
 * adopted app names in `workload.configMap`; an adopted app that names none is refused.
 */
function configTarget(config: Config, app: string, envName: string): AppWorkload & { configMap: string } {
  const target = appWorkload(app, requireApp(config, app), envName);
  if (target.configMap) return { ...target, configMap: target.configMap };
  throw conflict(
    `${app} is the adopted ${target.kind.toLowerCase()} \`${target.name}\` and its config names no ConfigMap, so \`config\` does not know which one its pods read. Name it with \`configMap: <name>\` in \`apps.${app}.workload\` in the bot's config.`,
  );
}

async function readAppConfigMap(ctx: WorkerVerbContext<Args>) {
  const { app, env: envName } = ctx.args;
  const env = ctx.environment(envName);
  const target = configTarget(ctx.config, app, envName);
  const configMap = await readConfigMap(
    env.cluster,
    env.namespace,
    target.configMap,
    target.adopted
      ? `\`apps.${app}.workload.configMap\` names it; the bot edits an adopted app's ConfigMap but does not create it`
      : `has ${app} been deployed to ${envName}? Try \`/k8s deploy ${app} ${envName}\``,
  );
  return { env, target, configMap, data: configMap.data ?? {} };
}

export default defineVerb<Args>({
  verb: 'config',
  summary: "Show or change an app's ConfigMap; a change rolls the pods and is followed to the end",
  usage: 'config <app> <env> [get | set KEY=VALUE... | unset KEY...]',
  example: 'config myapp beta set LOG_LEVEL=debug',
  class: 'write',
  runsIn: 'worker',
  positionals: ['app', 'env', 'action?', 'words...'],
  schema,
  target: ({ app, env }) => ({ app, env }),
  check: ({ app, env }, config) => void configTarget(config, app, env),
  describe,
  changesNothing: (args) => args.action === 'get',
  displayText: (args, config) => {
    const head = `config ${args.app} ${args.env} ${args.action}`;
    if (args.action === 'get' || !('change' in args)) return head;
    if (args.change.action === 'unset') return `${head} ${args.change.keys.join(' ')}`;
    const secretKeys = appOf(config, args.app)?.secretKeys ?? [];
    return `${head} ${Object.entries(args.change.values)
      .map(([k, v]) => `${k}=${secretKeys.includes(k) ? '••••••' : v}`)
      .join(' ')}`;
  },
  // `set` words of secret keys travel sealed; Redis keeps `KEY=••••••` in clear.
  maskSecrets: (raw, config) => {
    const secretKeys = typeof raw.app === 'string' ? (appOf(config, raw.app)?.secretKeys ?? []) : [];
    if (raw.action !== 'set' || !Array.isArray(raw.words) || secretKeys.length === 0) return undefined;
    const keyOf = (word: unknown) => (typeof word === 'string' && word.includes('=') ? word.slice(0, word.indexOf('=')) : undefined);
    const isSecret = (word: unknown) => secretKeys.includes(keyOf(word) ?? '');
    if (!raw.words.some(isSecret)) return undefined;
    return { ...raw, words: raw.words.map((w: unknown) => (isSecret(w) ? `${keyOf(w)!}=${SECRET_MASK}` : w)) };
  },
  async preview(ctx) {
    if (ctx.args.action === 'get') return [];
    const { data } = await readAppConfigMap(ctx);
    const secretKeys = requireApp(ctx.config, ctx.args.app).secretKeys;
    const changes = diffConfig(data, ctx.args.change);
    return changes.length ? changes.map((c) => describeChange(c, secretKeys)) : ['no value changes'];
  },
  async run(ctx) {
    const { app, env: envName } = ctx.args;
    const t = appTarget(ctx, app, envName);
    const { appConfig } = t;
    const { secretKeys } = appConfig;
    const { env, target, configMap, data } = await readAppConfigMap(ctx);
    const name = target.configMap;
    // An adopted app's ConfigMap is not what deploy writes: the bot's config file says nothing of its keys.
    const fileEnv = target.adopted ? {} : appForEnvironment(appConfig, envName).env;
    if (ctx.args.action === 'get') {
      await ctx.reply(configView(app, envName, configMap, secretKeys, fileEnv));
      return;
    }

    const changes = diffConfig(data, ctx.args.change);
    const live = await readAppWorkload(t);
    if (t.target.kind === 'Deployment') refusePaused(live as V1Deployment, 'a config change');
    const tracker = target.adopted ? gitopsTracker(configMap) : undefined;
    if (tracker && appConfig.gitops !== 'allowDrift') {
      throw conflict(
        `Nothing was changed: ${describeManager(tracker, escapeMrkdwn)} manages ConfigMap \`${name}\` and will put its data back at its next sync: change it in Git instead. To change it from chat anyway until the next sync, set \`gitops: allowDrift\` on \`apps.${app}\` in the bot's config.`,
      );
    }
    const stamped = live.spec?.template.metadata?.annotations?.[ANNOTATION_CONFIG_CHECKSUM];
    // A retried job (its thread exists) always resumes following, even when its change is already made.
    if (changes.length === 0 && (target.adopted || stamped === checksum(data)) && !ctx.progress.threadTs) {
      const keys = keysOf(ctx.args.change);
      const text =
        ctx.args.action === 'set'
          ? `:information_source: Nothing to change: ${listKeys(keys)} of ${app} in ${envName} already ${keys.length === 1 ? 'has' : 'have'} ${keys.length === 1 ? 'that value' : 'those values'}.`
          : `:information_source: Nothing to change: ${listKeys(keys)} ${keys.length === 1 ? 'is' : 'are'} not set for ${app} in ${envName}.`;
      await ctx.reply({ text });
      return;
    }

    const notes = deployNotes(changes, fileEnv, secretKeys);
    const patchWorkload = (body: object) =>
      t.ops.patch(env.cluster, env.namespace, t.target.name, body, PatchStrategy.StrategicMergePatch, FIELD_MANAGER_CONFIG, {
        dryRun: ctx.dryRun,
      });
    return runRolloutJob(ctx, {
      title: describe(ctx.args),
      env,
      app,
      workload: followed(t, live),
      timeoutMs: rolloutTimeout(t, live),
      // A rollback restores the pod template, not the ConfigMap: it would not undo this change.
      offerRollback: false,
      change: async () => {
        const updated = changes.length
          ? await patchConfigMap(env.cluster, env.namespace, name, changes, { dryRun: ctx.dryRun })
          : configMap;
        const what = changes.length
          ? `${name}: ${changes.map((c) => describeChange(c, secretKeys)).join('; ')}`
          : `${name} unchanged, but the pod template's config checksum was out of date`;
        if (target.adopted) {
          // Only the restart annotation of the adopted workload changes, as `kubectl rollout restart` does.
          const restartedAt = restartTimestamp(ctx.request.receivedAt);
          await patchWorkload(restartPatch(restartedAt));
          return `${what} — pods of ${t.target.kind.toLowerCase()} ${t.target.name} restart to load it (restartedAt ${restartedAt})`;
        }
        const sum = checksum(updated.data ?? {});
        // New data under the checksum already stamped: that stamp was stale, and only a restart makes the pods load the data.
        const stale = changes.length > 0 && sum === stamped;
        await patchWorkload(configChecksumPatch(sum, stale ? restartTimestamp(ctx.request.receivedAt) : undefined));
        return `${what} — pods roll with config checksum ${sum}${notes.length ? ` (note: ${notes.join('; ')})` : ''}`;
      },
    });
  },
});
