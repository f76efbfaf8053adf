import { z } from 'zod';
import { parseDuration } from './duration.js';
import { DNS1035_LABEL, quantity, TEMPLATE_KEYS, templateFields, workloadSchema } from './workload-schema.js';
import { parseQuantity } from '../kube/capacity.js';

/** DNS-1123 label: what Kubernetes accepts as a namespace, app or object name. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const dnsLabel = z
  .string()
  .max(63, 'at most 63 characters')
  .regex(DNS1123_LABEL, 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit');

const slackId = z.string().regex(/^[UWSB][A-Z0-9]{2,}$/, 'must be a Slack user ID (U…/W…) or user-group ID (S…)');
const channelId = z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'must be a Slack channel ID (C…, G… or D…)');

const duration = z
  .string()
  .regex(/^(\d+(ms|s|m|h|d))+$/, 'must be a duration like 30s, 5m or 1h')
  .transform((v) => parseDuration(v) as number);

const resourceList = z.object({ cpu: quantity.optional(), memory: quantity.optional() }).catchall(quantity);
const resources = z
  .object({ requests: resourceList.optional(), limits: resourceList.optional() })
  .describe('Kubernetes resource requests and limits for the app container');

export const clusterSchema = z
  .object({
    context: z.string().min(1).optional().describe('kubeconfig context to use for this cluster'),
    kubeconfig: z.string().min(1).optional().describe('kubeconfig file for this cluster (default: $KUBECONFIG or ~/.kube/config)'),
    inCluster: z.boolean().optional().describe("use the pod's service account instead of a kubeconfig"),
  })
  .strict()
  .refine((c) => Boolean(c.context) !== Boolean(c.inCluster), 'give exactly one of `context` or `inCluster: true`');

export const approvalSchema = z
  .object({
    approvers: z.array(slackId).min(1).describe('Slack user IDs or user-group IDs allowed to approve'),
    minApprovals: z.number().int().min(1).max(10).default(1).describe('distinct approvers needed'),
    allowSelfApproval: z.boolean().default(false).describe('may the requester approve their own change'),
    timeout: duration.default(30 * 60_000).describe('how long a request waits for approval, e.g. 30m'),
    commands: z.array(z.string()).optional().describe('write verbs that need approval here (default: every write verb)'),
  })
  .strict();

export const environmentSchema = z
  .object({
    cluster: z.string().optional().describe("a key of `clusters`; absent = the kubeconfig's current context"),
    namespace: dnsLabel.describe('namespace the environment lives in'),
    promoteFrom: z.string().optional().describe('environment whose running version `deploy` promotes by default'),
    approval: approvalSchema.optional().describe('present = write commands here need approval'),
    maxReplicas: z.number().int().min(1).max(1000).default(50).describe('upper bound for `scale`'),
    limits: z
      .object({
        maxMemory: quantity.optional().describe('upper bound for any memory request or limit `resources` sets, e.g. 4Gi'),
        maxCpu: quantity.optional().describe('upper bound for any CPU request or limit `resources` sets, e.g. 2'),
      })
      .strict()
      .optional()
      .describe("bounds for `resources` (and the alerts' Raise memory limit button); absent = up to the largest node's allocatable"),
  })
  .strict();

const appOverrides = z
  .object({
    replicas: z.number().int().min(0).max(1000).optional(),
    resources: resources.optional(),
    env: z.record(z.string(), z.string()).optional(),
    defaultTag: z.string().optional(),
    ...templateFields,
  })
  .strict();

const taskArgv = z.array(z.string().min(1).max(1_000)).min(1).max(50);
const taskSchema = z
  .union([
    taskArgv,
    z
      .object({
        command: taskArgv.describe('argv run in the pod, no shell: e.g. [jcmd, "1", VM.flags]'),
        timeout: duration.default(60_000).describe('the command is abandoned after this long (default 60s)'),
        container: dnsLabel.optional().describe("container to run it in; default the pod's first"),
        class: z
          .enum(['admin', 'write', 'read'])
          .default('admin')
          .describe(
            'admin (default) and write wait for approval where the environment has it and hold the per-app lock; read runs at once (a read-only diagnostic). Every run is audited',
          ),
      })
      .strict(),
  ])
  .transform((t) => (Array.isArray(t) ? { command: t, timeout: 60_000, class: 'admin' as const } : t));

const percentStep = z.number().int().min(1, 'a step is a percentage from 1 to 99').max(99, 'a step is a percentage from 1 to 99');
export const canarySchema = z
  .object({
    steps: z
      .array(percentStep)
      .min(1)
      .max(10)
      .default([10, 50])
      .refine((s) => s.every((p, i) => i === 0 || p > s[i - 1]!), 'steps must rise, e.g. [10, 50]')
      .describe('share of pods (percent) the canary runs at each step; `deploy --canary` starts at the first, `promote` moves to the next'),
    maxRestarts: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(3)
      .describe('container restarts of the canary pods (all together) the bot tolerates before it aborts the canary'),
    maxUnready: duration
      .default(5 * 60_000)
      .describe(
        'how long a canary pod may stay unready (not started, failing its readiness probe, unschedulable) before the bot aborts the canary',
      ),
    maxDuration: duration
      .default(4 * 3_600_000)
      .refine((ms) => ms >= 60_000 && ms <= 12 * 3_600_000, 'must be from 1m to 12h')
      .describe('a canary neither promoted fully nor aborted after this long is aborted (a forgotten canary)'),
  })
  .strict()
  .describe('`deploy --canary`: the new version beside the stable one, on a share of the pods');
export const blueGreenSchema = z
  .object({
    keepOld: duration
      .default(30 * 60_000)
      .refine((ms) => ms <= 12 * 3_600_000, 'must be at most 12h')
      .describe(
        'after a blue/green switch, how long the old version stays scaled up (Switch back is instant meanwhile) before it is scaled to 0',
      ),
  })
  .strict()
  .describe('`deploy --blue-green`: the new version as its own Deployment; the Service switches to it when it is ready');

export const appSchema = z
  .object({
    image: z.string().min(1).describe('image repository, without tag'),
    defaultTag: z.string().default('latest').describe('tag deployed when no version is given and no promoteFrom applies'),
    port: z.number().int().min(1).max(65535).optional().describe('container port; a Service is rendered when set'),
    replicas: z.number().int().min(0).max(1000).default(1),
    resources: resources.optional(),
    env: z.record(z.string(), z.string()).default({}).describe("rendered into the app's ConfigMap and loaded with envFrom"),
    secretKeys: z.array(z.string()).default([]).describe('config keys whose values `config get` hides'),
    progressDeadlineSeconds: z.number().int().min(1).max(3600).default(600).describe('rollout deadline, as in kubectl'),
    environments: z.record(z.string(), appOverrides).default({}).describe('per-environment overrides'),
    ...templateFields,
    workload: workloadSchema.optional(),
    tasks: z
      .record(dnsLabel, taskSchema)
      .default({})
      .describe(
        'one-shot commands `run <app> <env> <task>` may start in a pod, e.g. { jvm-flags: [jcmd, "1", VM.flags] } — never typed by users',
      ),
    canary: canarySchema.prefault({}),
    blueGreen: blueGreenSchema.prefault({}),
    gitops: z
      .enum(['refuse', 'allowDrift'])
      .optional()
      .describe(
        'when a GitOps controller (Argo CD, Flux) manages the workload: refuse (default), or allowDrift to change it anyway until its next sync',
      ),
  })
  .strict();

const channelBinding = z
  .object({
    environments: z.array(z.string()).min(1).describe('environments this channel may touch; "*" = all'),
    commands: z.array(z.string()).min(1).describe('verbs this channel may use; "*" = all'),
    members: z.array(slackId).optional().describe('only these users/groups may use this binding'),
    apps: z.array(z.string()).min(1).optional().describe('apps this channel may touch; "*" = all (default)'),
  })
  .strict();

/** Pod kinds (a rule without `on` gets these) and the opt-in kinds: node health and evictions. */
export const podAlertKinds = ['OOMKilled', 'Unschedulable', 'CrashLoopBackOff', 'ImagePullBackOff'] as const;
export const nodeAlertKinds = ['NodeNotReady', 'NodePressure'] as const;
export const alertKinds = [...podAlertKinds, 'Evicted', ...nodeAlertKinds] as const;
const alertRule = z
  .object({
    environments: z.array(z.string()).min(1),
    channel: channelId,
    on: z
      .array(z.enum(alertKinds))
      .min(1)
      .default([...podAlertKinds])
      .describe(
        `alert kinds this rule posts: ${alertKinds.join(', ')}; default the four pod kinds (Evicted, NodeNotReady and NodePressure are opt-in)`,
      ),
    nodes: z
      .boolean()
      .default(false)
      .describe(
        "NodeNotReady/NodePressure of every node of the rules' clusters come here; false (default): only nodes running pods of the rule's environments",
      ),
    pendingFor: duration.default(2 * 60_000).describe('how long a pod must be unschedulable before an alert'),
    recoverAfter: duration
      .default(5 * 60_000)
      .describe('how long a workload must stay quiet (no new occurrence, every pod healthy) before its incident is declared recovered'),
    reopenWithin: duration
      .default(30 * 60_000)
      .describe('a new occurrence this soon after a recovery reopens the same incident and thread instead of posting a new message'),
  })
  .strict();

const nodeLabels = z
  .object({
    allow: z
      .array(z.string().min(1).max(316))
      .default([])
      .describe(
        'label keys under kubernetes.io/ or k8s.io/ (or their subdomains) that `label` may still set or remove, e.g. node-role.kubernetes.io/worker; default none',
      ),
  })
  .strict()
  .describe('what the `label` verb may touch on nodes');

const silenceBounds = z
  .object({
    minDuration: duration
      .default(60_000)
      .refine((ms) => ms >= 1_000, 'must be at least 1s')
      .describe('the shortest duration `silence` accepts (default 1m, at least 1s)'),
    maxDuration: duration
      .default(7 * 86_400_000)
      .refine((ms) => ms <= 30 * 86_400_000, 'must be at most 30d')
      .describe('the longest duration `silence` accepts (default 7d, at most 30d)'),
  })
  .strict()
  .refine((s) => s.minDuration <= s.maxDuration, 'minDuration must not be above maxDuration')
  .describe('bounds of the `silence` command');

const debugCopies = z
  .object({
    maxPerApp: z.number().int().min(1).max(10).default(2).describe('debug copies of one app that may exist at once in an environment'),
    maxTtl: duration
      .default(4 * 3_600_000)
      .refine((ms) => ms <= 12 * 3_600_000, 'must be at most 12h')
      .describe('the longest `--ttl` a debug copy may ask for, e.g. 4h (at most 12h)'),
  })
  .strict()
  .describe('sleeping copies of pods made by the `debug` verb');

const headerValue = z.union([
  z.string().describe('the value itself (not for secrets: the config file is not a secret store)'),
  z
    .object({
      env: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
        .describe('environment variable holding the value'),
    })
    .strict(),
]);

const prometheusSchema = z
  .object({
    url: z
      .url({ protocol: /^https?$/ })
      .describe('base URL of the Prometheus HTTP API, e.g. http://prometheus.monitoring:9090 (query_range is asked under /api/v1/)'),
    headers: z
      .record(z.string().regex(/^[A-Za-z0-9-]+$/, 'a header name'), headerValue)
      .default({})
      .describe('headers sent with every query, e.g. { Authorization: { env: PROMETHEUS_AUTHORIZATION } }; never logged'),
    timeout: duration.default(5_000).describe('a query is abandoned after this long (default 5s)'),
  })
  .strict()
  .describe("optional: where the OOMKilled alert's memory chart reads container_memory_working_set_bytes; absent = metrics.k8s.io samples");

export const configSchema = z
  .object({
    clusters: z.record(z.string(), clusterSchema).default({}),
    environments: z.record(dnsLabel, environmentSchema),
    apps: z.record(dnsLabel, appSchema).default({}),
    channels: z.record(channelId, channelBinding).default({}),
    alerts: z.array(alertRule).default([]),
    nodeLabels: nodeLabels.default({ allow: [] }),
    debug: debugCopies.default({ maxPerApp: 2, maxTtl: 4 * 3_600_000 }),
    silences: silenceBounds.default({ minDuration: 60_000, maxDuration: 7 * 86_400_000 }),
    prometheus: prometheusSchema.optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    for (const [name, env] of Object.entries(cfg.environments)) {
      if (env.cluster && !Object.hasOwn(cfg.clusters, env.cluster)) {
        ctx.addIssue({
          code: 'custom',
          path: ['environments', name, 'cluster'],
          message: `unknown cluster "${env.cluster}" (known: ${Object.keys(cfg.clusters).join(', ') || 'none'})`,
        });
      }
      if (env.promoteFrom && !Object.hasOwn(cfg.environments, env.promoteFrom)) {
        ctx.addIssue({ code: 'custom', path: ['environments', name, 'promoteFrom'], message: `unknown environment "${env.promoteFrom}"` });
      }
    }
    const knownEnv = (e: string) => e === '*' || Object.hasOwn(cfg.environments, e);
    for (const [channel, binding] of Object.entries(cfg.channels)) {
      binding.environments.forEach((e, i) => {
        if (!knownEnv(e))
          ctx.addIssue({ code: 'custom', path: ['channels', channel, 'environments', i], message: `unknown environment "${e}"` });
      });
    }
    cfg.alerts.forEach((rule, r) =>
      rule.environments.forEach((e, i) => {
        if (!Object.hasOwn(cfg.environments, e))
          ctx.addIssue({ code: 'custom', path: ['alerts', r, 'environments', i], message: `unknown environment "${e}"` });
      }),
    );
    for (const [channel, binding] of Object.entries(cfg.channels)) {
      (binding.apps ?? []).forEach((a, i) => {
        if (a !== '*' && !Object.hasOwn(cfg.apps, a))
          ctx.addIssue({ code: 'custom', path: ['channels', channel, 'apps', i], message: `unknown app "${a}"` });
      });
    }
    for (const [app, appCfg] of Object.entries(cfg.apps)) {
      for (const e of Object.keys(appCfg.environments)) {
        if (!Object.hasOwn(cfg.environments, e))
          ctx.addIssue({ code: 'custom', path: ['apps', app, 'environments', e], message: `unknown environment "${e}"` });
      }
      for (const issue of appProblems(app, appCfg))
        ctx.addIssue({ code: 'custom', path: ['apps', app, ...issue.path], message: issue.message });
    }
  });

type ParsedApp = z.infer<typeof appSchema>;

/** Requests above limits are refused by the API server (422): refuse them at start-up instead. */
function resourceProblems(res: ParsedApp['resources']): { path: string[]; message: string }[] {
  const out: { path: string[]; message: string }[] = [];
  for (const [name, limit] of Object.entries(res?.limits ?? {})) {
    const request = res?.requests?.[name];
    if (request !== undefined && limit !== undefined && parseQuantity(request) > parseQuantity(limit)) {
      out.push({
        path: ['resources', 'requests', name],
        message: `the request ${request} is above the limit ${limit}; Kubernetes refuses that`,
      });
    }
  }
  return out;
}

/** Checks across fields, per environment too, that a real API server would otherwise refuse at deploy time. */
function appProblems(app: string, cfg: ParsedApp): { path: PropertyKey[]; message: string }[] {
  const out: { path: PropertyKey[]; message: string }[] = [];
  if (cfg.workload) {
    for (const key of [...TEMPLATE_KEYS, 'port'] as const) {
      if (cfg[key] !== undefined)
        out.push({
          path: [key],
          message: `\`${key}\` shapes a rendered app; an adopted app (\`workload\`) keeps its own spec, so remove it`,
        });
    }
  }
  out.push(...resourceProblems(cfg.resources));
  const layers: { path: PropertyKey[]; over: Partial<ParsedApp> }[] = [
    { path: [], over: {} },
    ...Object.entries(cfg.environments).map(([e, over]) => ({ path: ['environments', e], over: over as Partial<ParsedApp> })),
  ];
  for (const { path, over } of layers) {
    if (path.length > 0) out.push(...resourceProblems(over.resources).map((p) => ({ ...p, path: [...path, ...p.path] })));
    if (cfg.workload) continue;
    const eff = { ...cfg, ...Object.fromEntries(Object.entries(over).filter(([, v]) => v !== undefined)) } as ParsedApp;
    const kind = eff.kind ?? 'Deployment';
    const hasPorts = eff.port !== undefined || Object.keys(eff.ports ?? {}).length > 0;
    if (eff.port !== undefined && eff.ports) out.push({ path: [...path, 'ports'], message: 'give `port` or `ports`, not both' });
    if ((hasPorts || kind === 'StatefulSet') && !DNS1035_LABEL.test(app)) {
      out.push({
        path: [],
        message: `"${app}" renders a Service, whose name must be a DNS-1035 label (starting with a letter); rename the app or adopt the workload with \`workload\``,
      });
    }
    if (eff.ingress && !hasPorts)
      out.push({ path: [...path, 'ingress'], message: "an Ingress routes to the app's Service: give `port` or `ports`" });
    if (eff.ingress?.port && !Object.hasOwn(eff.ports ?? (eff.port ? { http: eff.port } : {}), eff.ingress.port)) {
      out.push({ path: [...path, 'ingress', 'port'], message: `no port named "${eff.ingress.port}" in \`ports\`` });
    }
    if (eff.storage && kind !== 'StatefulSet')
      out.push({ path: [...path, 'storage'], message: '`storage` needs `kind: StatefulSet` (a volume per pod)' });
    if (kind === 'StatefulSet' && eff.maxSurge !== undefined)
      out.push({ path: [...path, 'maxSurge'], message: 'a StatefulSet has no surge: remove `maxSurge`' });
  }
  const seen = new Set<string>();
  return out.filter((p) => !seen.has(`${p.path.join('.')}|${p.message}`) && Boolean(seen.add(`${p.path.join('.')}|${p.message}`)));
}

export type Config = z.infer<typeof configSchema>;
export type EnvironmentConfig = Config['environments'][string];
export type AppConfig = Config['apps'][string];
export type ChannelBinding = Config['channels'][string];
export type ClusterConfig = z.infer<typeof clusterSchema>;
export type AlertRule = Config['alerts'][number];
export type AlertKind = (typeof alertKinds)[number];
export type PrometheusConfig = NonNullable<Config['prometheus']>;
