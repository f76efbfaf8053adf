import { z } from 'zod';
import { defineVerb, type WorkerVerbContext } from '../src/command/types.js';
import { appArg, envArg, versionArg } from '../src/command/schemas.js';
import { notFound } from '../src/errors/index.js';
import type { Config } from '../src/config/schema.js';
import { appOf, environmentOf } from '../src/config/lookup.js';
import { applyConfigMap, applyDeployment, applyService, readDeploymentIfExists } from '../src/kube/apply.js';
import { ANNOTATION_REQUEST_ID, ANNOTATION_RESTARTED_AT, appForEnvironment, imageRef, imageTag, renderApp } from '../src/kube/render.js';
import { runRolloutJob } from '../src/worker/rollout-job.js';

const schema = z.object({ app: appArg, env: envArg, version: versionArg.optional() });
type Args = z.infer<typeof schema>;

export function requireApp(config: Config, app: string) {
  const appConfig = appOf(config, app);
  if (!appConfig) {
    const known = Object.keys(config.apps);
    throw notFound(`There is no app \`${app}\` in the bot's config${known.length ? ` (known: ${known.map((a) => `\`${a}\``).join(', ')})` : ''}.`);
  }
  return appConfig;
}

/** Without a version: what runs in the promoteFrom environment, else the app's default tag. */
async function resolveVersion(ctx: WorkerVerbContext<Args>): Promise<{ version: string; note?: string }> {
  const { app, env, version } = ctx.args;
  if (version) return { version };
  const appConfig = requireApp(ctx.config, app);
  const fallback = appForEnvironment(appConfig, env).defaultTag;
  const source = environmentOf(ctx.config, env)?.promoteFrom;
  if (!source) return { version: fallback };
  const from = ctx.environment(source);
  const running = await readDeploymentIfExists(from.cluster, from.namespace, app);
  const tag = running ? imageTag(running.spec?.template.spec?.containers[0]?.image ?? '') : undefined;
  if (!tag) return { version: fallback, note: `${app} is not running in ${source}, so deploying the default tag ${fallback}` };
  return { version: tag, note: `promoting the version running in ${source}` };
}

export default defineVerb<Args>({
  verb: 'deploy',
  summary: 'Deploy a version of an app to an environment and follow the rollout',
  usage: 'deploy <app> <env> [version]',
  example: 'deploy myapp beta 1.4.2',
  class: 'write',
  runsIn: 'worker',
  positionals: ['app', 'env', 'version?'],
  schema,
  target: ({ app, env }) => ({ app, env }),
  check: ({ app }, config) => void requireApp(config, app),
  describe: ({ app, env, version }) => `deploy ${app}${version ? ` ${version}` : ''} → ${env}`,
  async pin(ctx) {
    return { version: (await resolveVersion(ctx)).version };
  },
  async preview(ctx) {
    const { app, env: envName } = ctx.args;
    const appConfig = requireApp(ctx.config, app);
    const env = ctx.environment(envName);
    const { version, note } = await resolveVersion(ctx);
    const effective = appForEnvironment(appConfig, envName);
    const current = await readDeploymentIfExists(env.cluster, env.namespace, app);
    const currentImage = current?.spec?.template.spec?.containers[0]?.image;
    const image = imageRef(appConfig, version);
    const lines = [
      current ? `image ${currentImage ?? '?'} → ${image}${currentImage === image ? ' (same image: pods restart)' : ''}` : `new deployment in ${env.namespace} with ${image}`,
      `replicas ${current?.spec?.replicas ?? 0} → ${effective.replicas}`,
    ];
    if (note) lines.push(note);
    return lines;
  },
  async run(ctx) {
    const { app, env: envName } = ctx.args;
    const appConfig = requireApp(ctx.config, app);
    const env = ctx.environment(envName);
    const { version, note } = await resolveVersion(ctx);
    const image = imageRef(appConfig, version);
    return runRolloutJob(ctx, {
      title: `deploy ${app} ${version} → ${envName}`,
      env,
      app,
      timeoutMs: (appConfig.progressDeadlineSeconds + 60) * 1_000,
      change: async () => {
        const current = await readDeploymentIfExists(env.cluster, env.namespace, app);
        const sameImage = current?.spec?.template.spec?.containers.some((c) => c.image === image) ?? false;
        // A retry of this very job finds its own earlier apply: apply the same state again, no extra restart.
        const isRetry = current?.metadata?.annotations?.[ANNOTATION_REQUEST_ID] === ctx.request.requestId;
        const restartedAt = isRetry
          ? current?.spec?.template.metadata?.annotations?.[ANNOTATION_RESTARTED_AT]
          : sameImage
            ? new Date(ctx.request.receivedAt).toISOString()
            : undefined;
        const renderInput = {
          appName: app,
          app: appConfig,
          envName,
          namespace: env.namespace,
          version,
          requestedBy: ctx.request.userName ?? ctx.request.userId,
          channelId: ctx.request.channelId,
          configData: appForEnvironment(appConfig, envName).env,
          requestId: ctx.request.requestId,
          // Same tag again (e.g. "latest"): restart the pods so the image is pulled anew.
          ...(restartedAt ? { restartedAt } : {}),
        };
        const rendered = renderApp(renderInput);
        const configMap = await applyConfigMap(env.cluster, rendered.configMap);
        if (rendered.service) await applyService(env.cluster, rendered.service);
        // The checksum covers what the ConfigMap holds now, chat-set keys included.
        const deployment = renderApp({ ...renderInput, checksumData: configMap.data ?? {} }).deployment;
        const applied = await applyDeployment(env.cluster, deployment);
        const action = current && !isRetry ? (sameImage ? 'redeployed the same image (pods restart to pull it)' : `updated image ${current.spec?.template.spec?.containers[0]?.image ?? '?'} → ${image}`) : isRetry ? `re-applied ${image} (retry of this job)` : `created deployment with ${image}`;
        return `applied to ${env.namespace}: ${action} (generation ${applied.metadata?.generation ?? '?'})${note ? ` — ${note}` : ''}`;
      },
    });
  },
});
