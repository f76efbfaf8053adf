import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments, stringify } from 'yaml';
import { parseConfig } from '../src/config/load.js';
import { registry } from '../src/server/metrics.js';

/**
 * Renders every overlay and the base with each component through `kubectl kustomize`,
 * validates every object with kubernetes-models (the OpenAPI JSON Schemas of
 * Kubernetes, and the Prometheus Operator CRDs for ServiceMonitor), rejects fields
 * Kubernetes does not know (client-node's model attribute maps), then checks what
 * the bot needs from its pods.
 */

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEPLOY = join(ROOT, 'deploy');
const KUSTOMIZE = join(DEPLOY, 'kustomize');
const BOT_NAMESPACE = 'k8s-chatops';

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: any;
};

async function kustomize(dir: string): Promise<Obj[]> {
  const { stdout } = await run('kubectl', ['kustomize', dir], { maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

/** A throw-away kustomization: the base (or an overlay) plus components. */
async function kustomizeWith(resource: string, components: string[]): Promise<Obj[]> {
  const dir = await mkdtemp(join(tmpdir(), 'chatops-kustomize-'));
  try {
    const rel = (p: string) => relative(dir, join(KUSTOMIZE, p));
    await writeFile(
      join(dir, 'kustomization.yaml'),
      stringify({
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        resources: [rel(resource)],
        components: components.map(rel),
      }),
    );
    return await kustomize(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const OVERLAYS = ['all-in-one', 'split-roles', 'with-redis'] as const;
const COMPONENTS = ['servicemonitor', 'node-labels'] as const;

const VALIDATORS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

type AttributeMap = Array<{ baseName: string; type: string }>;
const models = k8s as unknown as Record<string, { getAttributeTypeMap?: () => AttributeMap } | undefined>;

/** Fields Kubernetes would drop or refuse (typos like `readinesProbe`), by client-node's model of each type. */
function unknownFields(value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`)) : [];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return typeof value === 'object' ? Object.entries(value).flatMap(([k, v]) => unknownFields(v, map[1]!, `${path}.${k}`)) : [];
  const attributes = models[type]?.getAttributeTypeMap?.();
  if (!attributes || typeof value !== 'object') return [];
  const known = new Map(attributes.map((a) => [a.baseName, a.type]));
  return Object.entries(value).flatMap(([k, v]) => (known.has(k) ? unknownFields(v, known.get(k)!, `${path}.${k}`) : [`${path}.${k}`]));
}

function validate(obj: Obj): string[] {
  const id = `${obj.kind}/${obj.metadata?.name}`;
  const Model = VALIDATORS[`${obj.apiVersion}/${obj.kind}`];
  if (!Model) return [`${id}: no validator for ${obj.apiVersion} ${obj.kind} — add one to VALIDATORS`];
  const problems: string[] = [];
  try {
    new Model(obj).validate();
  } catch (err) {
    problems.push(`${id}: ${(err as Error).message}`);
  }
  if (obj.apiVersion.split('/').length === 1 || /^(apps|policy|rbac\.authorization\.k8s\.io|networking\.k8s\.io)\//.test(obj.apiVersion)) {
    problems.push(...unknownFields(obj, `V1${obj.kind}`, id).map((f) => `${f}: unknown field`));
  }
  return problems;
}

const renders = new Map<string, Obj[]>();
const CASES = [
  ...OVERLAYS.map((o) => `overlays/${o}`),
  'base',
  ...COMPONENTS.map((c) => `base + components/${c}`),
  `base + ${COMPONENTS.map((c) => `components/${c}`).join(' + ')}`,
  `overlays/split-roles + ${COMPONENTS.map((c) => `components/${c}`).join(' + ')}`,
];

beforeAll(async () => {
  await Promise.all(
    CASES.map(async (name) => {
      const [resource, ...components] = name.split(' + ') as [string, ...string[]];
      renders.set(name, components.length ? await kustomizeWith(resource, components) : await kustomize(join(KUSTOMIZE, resource)));
    }),
  );
});

const rendered = (name: string): Obj[] => {
  const objs = renders.get(name);
  if (!objs) throw new Error(`not rendered: ${name}`);
  return objs;
};
const ofKind = (objs: Obj[], kind: string) => objs.filter((o) => o.kind === kind);
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('kubectl kustomize', () => {
  it.each(CASES)('renders %s into valid Kubernetes objects', (name) => {
    const objs = rendered(name);
    expect(objs.length).toBeGreaterThan(0);
    expect(objs.flatMap(validate)).toEqual([]);
  });

  it('catches invalid objects and unknown fields (the validation is not a no-op)', () => {
    const deployment = structuredClone(ofKind(rendered('overlays/all-in-one'), 'Deployment')[0]!);
    deployment.spec.replicas = 'two';
    deployment.spec.template.spec.containers[0].readinesProbe = {};
    expect(validate(deployment).join('\n')).toMatch(/replicas must be integer[\s\S]*readinesProbe: unknown field/);
  });

  it("puts the bot's objects in its namespace and the managed Roles in theirs", () => {
    for (const name of CASES) {
      for (const o of rendered(name)) {
        if (['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind))
          expect(o.metadata.namespace, `${name}: ${o.kind}/${o.metadata.name}`).toBeUndefined();
        else if (o.kind === 'Role' || o.kind === 'RoleBinding') expect(o.metadata.namespace).toMatch(/^(k8s-chatops|beta)$/);
        else expect(o.metadata.namespace, `${name}: ${o.kind}/${o.metadata.name}`).toBe(BOT_NAMESPACE);
      }
    }
  });
});

describe("the bot's pods", () => {
  const chatopsDeployments = (objs: Obj[]) =>
    ofKind(objs, 'Deployment').filter((d) => d.metadata.labels?.['app.kubernetes.io/name'] === 'k8s-chatops');

  it('runs every role in one Deployment in all-in-one and with-redis, one Deployment per role in split-roles', () => {
    const roles = (objs: Obj[]) => chatopsDeployments(objs).map((d) => d.spec.template.spec.containers[0].args ?? []);
    expect(roles(rendered('overlays/all-in-one'))).toEqual([[]]);
    expect(roles(rendered('overlays/with-redis'))).toEqual([[]]);
    expect(
      roles(rendered('overlays/split-roles'))
        .map((a) => a.join(' '))
        .sort(),
    ).toEqual(['--role alerts', '--role app', '--role worker']);
  });

  it.each(OVERLAYS)('%s: locked-down containers with probes, resources, the config file and the Slack secret', (overlay) => {
    const objs = rendered(`overlays/${overlay}`);
    const configMaps = ofKind(objs, 'ConfigMap');
    for (const d of ofKind(objs, 'Deployment')) {
      const pod = d.spec.template.spec;
      const id = `${overlay}: ${d.metadata.name}`;
      expect(pod.securityContext, id).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.volumes.find((v: any) => v.name === 'tmp')?.emptyDir, id).toBeDefined();
      for (const c of pod.containers) {
        expect(c.securityContext, id).toEqual({
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(
          c.volumeMounts.find((m: any) => m.mountPath === '/tmp'),
          id,
        ).toBeDefined();
        expect(Object.keys(c.resources.requests).sort(), id).toEqual(['cpu', 'memory']);
        expect(Object.keys(c.resources.limits).sort(), id).toEqual(['cpu', 'memory']);
        expect(c.image, id).not.toMatch(/:latest$/);
      }
      if (d.metadata.labels?.['app.kubernetes.io/name'] !== 'k8s-chatops') continue;

      expect(pod.serviceAccountName).toBe('k8s-chatops');
      expect(ofKind(objs, 'ServiceAccount').map((s) => s.metadata.name)).toContain('k8s-chatops');
      const [c] = pod.containers;
      expect(c.ports).toEqual([{ name: 'http', containerPort: 3000 }]);
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      const env = Object.fromEntries(c.env.map((e: any) => [e.name, e]));
      expect(env.CHATOPS_CONFIG.value).toBe('/etc/k8s-chatops/chatops.yaml');
      expect(env.SLACK_BOT_TOKEN.valueFrom.secretKeyRef).toEqual({ name: 'k8s-chatops-slack', key: 'SLACK_BOT_TOKEN' });
      expect(env.SLACK_SIGNING_SECRET.valueFrom.secretKeyRef).toMatchObject({ name: 'k8s-chatops-slack', optional: true });
      expect(env.SLACK_APP_TOKEN.valueFrom.secretKeyRef).toMatchObject({ name: 'k8s-chatops-slack', optional: true });

      // The config file: a generated (hash-named) ConfigMap mounted at /etc/k8s-chatops.
      const mount = c.volumeMounts.find((m: any) => m.mountPath === '/etc/k8s-chatops');
      const volume = pod.volumes.find((v: any) => v.name === mount.name);
      const configMap = configMaps.find((m) => m.metadata.name === volume.configMap.name);
      expect(volume.configMap.name).toMatch(/^k8s-chatops-config-[a-z0-9]{10}$/);
      expect(configMap?.data?.['chatops.yaml'], 'the mounted ConfigMap exists and holds chatops.yaml').toBeDefined();
      expect(() => parseConfig(configMap!.data['chatops.yaml'], 'ConfigMap k8s-chatops-config')).not.toThrow();

      // REDIS_URL from the env ConfigMap.
      const envFrom = configMaps.find((m) => m.metadata.name === c.envFrom[0].configMapRef.name);
      expect(envFrom?.data?.REDIS_URL).toMatch(/^redis:\/\//);
    }
  });

  it('rolls the pods when the config file changes (the ConfigMap name carries its hash)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatops-kustomize-'));
    try {
      await writeFile(
        join(dir, 'kustomization.yaml'),
        stringify({
          resources: [relative(dir, join(KUSTOMIZE, 'overlays/all-in-one'))],
          configMapGenerator: [{ name: 'k8s-chatops-config', behavior: 'replace', files: ['chatops.yaml'] }],
        }),
      );
      const changed = (await readFile(join(KUSTOMIZE, 'base/chatops.yaml'), 'utf8')).replace('pendingFor: 2m', 'pendingFor: 3m');
      await writeFile(join(dir, 'chatops.yaml'), changed);
      const volumeName = (objs: Obj[]) =>
        chatopsDeployments(objs)[0]!.spec.template.spec.volumes.find((v: any) => v.configMap).configMap.name;
      expect(volumeName(await kustomize(dir))).not.toBe(volumeName(rendered('overlays/all-in-one')));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each(OVERLAYS)('%s: every Service and PodDisruptionBudget selects the pods of exactly one Deployment', (overlay) => {
    const objs = rendered(`overlays/${overlay}`);
    const deployments = ofKind(objs, 'Deployment');
    for (const d of deployments) expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels), d.metadata.name).toBe(true);
    for (const s of [...ofKind(objs, 'Service'), ...ofKind(objs, 'PodDisruptionBudget')]) {
      const selector = s.kind === 'Service' ? s.spec.selector : s.spec.selector.matchLabels;
      const selected = deployments.filter((d) => matches(selector, d.spec.template.metadata.labels));
      expect(
        selected.map((d) => d.metadata.name),
        `${s.kind}/${s.metadata.name}`,
      ).toHaveLength(1);
    }
    for (const d of chatopsDeployments(objs)) {
      expect(
        ofKind(objs, 'PodDisruptionBudget').some((p) => matches(p.spec.selector.matchLabels, d.spec.template.metadata.labels)),
        `${d.metadata.name} has a PDB`,
      ).toBe(true);
    }
    const app = chatopsDeployments(objs).find(
      (d) => !(d.spec.template.spec.containers[0].args ?? []).length || d.spec.template.spec.containers[0].args.includes('app'),
    );
    const appService = ofKind(objs, 'Service').find((s) => matches(s.spec.selector, app!.spec.template.metadata.labels));
    expect(appService?.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http' }]);
  });

  it('with-redis: one Redis that never evicts and requires the generated password, and the bot pointed at it with that password', () => {
    const objs = rendered('overlays/with-redis');
    const redis = ofKind(objs, 'Deployment').filter((d) => d.metadata.name === 'k8s-chatops-redis');
    expect(redis).toHaveLength(1);
    const redisContainer = redis[0]!.spec.template.spec.containers[0];
    const args: string[] = redisContainer.args;
    expect(args[args.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
    const secretRef = { name: 'k8s-chatops-redis', key: 'REDIS_PASSWORD' };
    expect(args[args.indexOf('--requirepass') + 1]).toBe('$(REDIS_PASSWORD)');
    expect(redisContainer.env.find((e: any) => e.name === 'REDIS_PASSWORD').valueFrom.secretKeyRef).toEqual(secretRef);
    expect(redisContainer.readinessProbe.exec.command.join(' ')).toContain('REDISCLI_AUTH');
    const service = ofKind(objs, 'Service').find((s) => s.metadata.name === 'k8s-chatops-redis')!;
    const [bot] = chatopsDeployments(objs);
    const env: Array<{ name: string; value?: string; valueFrom?: any }> = bot!.spec.template.spec.containers[0].env;
    const names = env.map((e) => e.name);
    // Declared before use, so Kubernetes expands $(REDIS_PASSWORD); REDIS_URL once, as a value.
    expect(names.indexOf('REDIS_PASSWORD')).toBeGreaterThanOrEqual(0);
    expect(names.indexOf('REDIS_PASSWORD')).toBeLessThan(names.indexOf('REDIS_URL'));
    expect(names.filter((n) => n === 'REDIS_URL')).toHaveLength(1);
    expect(env.find((e) => e.name === 'REDIS_PASSWORD')!.valueFrom.secretKeyRef).toEqual(secretRef);
    expect(env.find((e) => e.name === 'REDIS_URL')!.value).toBe(
      `redis://:$(REDIS_PASSWORD)@${service.metadata.name}:${service.spec.ports[0].port}`,
    );
    // The password is never in a rendered object: it is generated into the Secret by the documented one-liner.
    expect(ofKind(objs, 'Secret')).toEqual([]);
  });

  it("with-redis: only the bot's pods reach Redis; the bot reaches only DNS, Redis, the API server and Slack", () => {
    const objs = rendered('overlays/with-redis');
    const policies = ofKind(objs, 'NetworkPolicy');
    const podsOf = (name: string) => ofKind(objs, 'Deployment').find((d) => d.metadata.name === name)!.spec.template.metadata.labels;
    const redisPod = podsOf('k8s-chatops-redis');
    const botPods = chatopsDeployments(objs).map((d) => d.spec.template.metadata.labels);
    const selecting = (labels: Record<string, string>) => policies.filter((p) => matches(p.spec.podSelector.matchLabels, labels));

    const [redisPolicy, ...more] = selecting(redisPod);
    expect(more).toEqual([]);
    expect(redisPolicy!.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(redisPolicy!.spec.egress).toEqual([]);
    expect(redisPolicy!.spec.ingress).toHaveLength(1);
    const [rule] = redisPolicy!.spec.ingress;
    expect(rule.ports).toEqual([{ protocol: 'TCP', port: 6379 }]);
    // Pods only, in this namespace only: no namespaceSelector or ipBlock that would let others in.
    for (const peer of rule.from) expect(Object.keys(peer)).toEqual(['podSelector']);
    for (const labels of botPods) expect(rule.from.some((peer: any) => matches(peer.podSelector.matchLabels, labels))).toBe(true);
    expect(rule.from.some((peer: any) => matches(peer.podSelector.matchLabels, redisPod))).toBe(false);

    for (const labels of botPods) {
      const [botPolicy, ...others] = selecting(labels);
      expect(others).toEqual([]);
      expect(botPolicy!.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(botPolicy!.spec.ingress).toEqual([{ ports: [{ protocol: 'TCP', port: 3000 }] }]);
      const egress: any[] = botPolicy!.spec.egress;
      const allowed = egress.flatMap((r) => r.ports.map((p: any) => `${p.protocol}/${p.port}${r.to ? ' (selected pods)' : ''}`)).sort();
      expect(allowed).toEqual([
        'TCP/443',
        'TCP/53 (selected pods)',
        'TCP/6379 (selected pods)',
        'TCP/6443',
        'TCP/9090',
        'UDP/53 (selected pods)',
      ]);
      const toRedis = egress.find((r) => r.ports.some((p: any) => p.port === 6379));
      expect(toRedis.to.every((peer: any) => matches(peer.podSelector.matchLabels, redisPod))).toBe(true);
      const dns = egress.find((r) => r.ports.some((p: any) => p.port === 53));
      expect(dns.to[0].podSelector.matchLabels).toEqual({ 'k8s-app': 'kube-dns' });
    }
  });

  it('servicemonitor: scrapes /metrics on the http port of every k8s-chatops Service', () => {
    const objs = rendered('overlays/split-roles + components/servicemonitor + components/node-labels');
    const [monitor] = ofKind(objs, 'ServiceMonitor');
    expect(monitor?.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
    const scraped = ofKind(objs, 'Service').filter((s) => matches(monitor!.spec.selector.matchLabels, s.metadata.labels));
    expect(scraped.map((s) => s.metadata.name).sort()).toEqual(['k8s-chatops-alerts', 'k8s-chatops-app', 'k8s-chatops-worker']);
    for (const s of scraped) expect(s.spec.ports.map((p: any) => p.name)).toContain('http');
  });
});

describe('the rest of deploy/', () => {
  it('ships a Secret example, never a Secret', async () => {
    for (const name of CASES) expect(ofKind(rendered(name), 'Secret')).toEqual([]);
    const example = await readFile(join(DEPLOY, 'secret.example.env'), 'utf8');
    expect(example).toMatch(/^SLACK_BOT_TOKEN=xoxb-replace-me$/m);
    expect(example).toMatch(/^CHATOPS_SIGNING_KEY=/m);
    for (const name of CASES) {
      for (const d of ofKind(rendered(name), 'Deployment').filter((o) => o.metadata.labels?.['app.kubernetes.io/name'] === 'k8s-chatops')) {
        const key = d.spec.template.spec.containers[0].env.find((e: any) => e.name === 'CHATOPS_SIGNING_KEY');
        expect(key?.valueFrom.secretKeyRef, `${name}: ${d.metadata.name} reads CHATOPS_SIGNING_KEY from the Secret`).toEqual({
          name: 'k8s-chatops-slack',
          key: 'CHATOPS_SIGNING_KEY',
        });
      }
    }
    expect(example).toMatch(/^SLACK_SIGNING_SECRET=/m);
    expect(example).toMatch(/^# SLACK_APP_TOKEN=/m);
  });

  it('Slack app manifests: /k8s, interactivity, exactly the scopes the bot needs', async () => {
    const scopes = ['commands', 'chat:write', 'files:write', 'usergroups:read', 'users:read', 'channels:read', 'groups:read'];
    const http = parseYaml(await readFile(join(DEPLOY, 'slack-app-manifest.yaml'), 'utf8'));
    const socket = parseYaml(await readFile(join(DEPLOY, 'slack-app-manifest.socket-mode.yaml'), 'utf8'));
    for (const m of [http, socket]) {
      expect([...m.oauth_config.scopes.bot].sort()).toEqual([...scopes].sort());
      expect(m.features.slash_commands).toHaveLength(1);
      expect(m.features.slash_commands[0]).toMatchObject({ command: '/k8s', usage_hint: expect.stringContaining('deploy') });
      expect(m.settings.interactivity.is_enabled).toBe(true);
    }
    expect(http.settings.socket_mode_enabled).toBe(false);
    expect(http.settings.interactivity.request_url).toBe('https://YOUR-HOST/slack/events');
    expect(http.features.slash_commands[0].url).toBe('https://YOUR-HOST/slack/events');
    expect(socket.settings.socket_mode_enabled).toBe(true);
    expect(socket.settings.interactivity.request_url).toBeUndefined();
    expect(socket.features.slash_commands[0].url).toBeUndefined();
  });

  it('Grafana dashboard: queries only metrics the bot exports, and shows each of its own', async () => {
    const dashboard = JSON.parse(await readFile(join(DEPLOY, 'grafana-dashboard.json'), 'utf8'));
    const exported = (await registry.getMetricsAsJSON()).flatMap((m) =>
      String(m.type) === 'histogram'
        ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`]
        : String(m.type) === 'summary'
          ? [m.name, `${m.name}_sum`, `${m.name}_count`]
          : [m.name],
    );
    const exprs: string[] = [];
    const walk = (panels: any[]) => {
      for (const p of panels) {
        for (const t of p.targets ?? []) exprs.push(t.expr);
        walk(p.panels ?? []);
      }
    };
    walk(dashboard.panels);
    const used = new Set(exprs.flatMap((e) => e.match(/\bchatops_[a-z0-9_]+/g) ?? []));
    expect([...used].filter((m) => !exported.includes(m))).toEqual([]);
    const own = (await registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => !/^chatops_(process|nodejs)_/.test(n));
    expect(own.filter((n) => ![...used].some((u) => u === n || u.startsWith(`${n}_`)))).toEqual([]);
    expect(new Set(dashboard.panels.map((p: any) => p.id)).size).toBe(dashboard.panels.length);
  });

  it('Dockerfile: multi-stage, production dependencies only, non-root, exec-form entrypoint', async () => {
    const dockerfile = await readFile(join(DEPLOY, 'Dockerfile'), 'utf8');
    const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\w+)$/gm)].map((m) => m[1]);
    expect(stages).toEqual(['build', 'deps', 'runtime']);
    expect(dockerfile).toMatch(/RUN npm ci\b/);
    expect(dockerfile).toMatch(/RUN npm run build/);
    expect(dockerfile).toMatch(/RUN npm ci --omit=dev/);
    expect(dockerfile).toMatch(/COPY --from=build \/app\/dist \.\/dist/);
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime).toMatch(/^USER 10001:10001$/m);
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(runtime)?.[1];
    expect(JSON.parse(entrypoint!)).toEqual(['/usr/bin/tini', '--', 'node', '--enable-source-maps', 'dist/src/main.js']);
    const ignore = (await readFile(join(ROOT, '.dockerignore'), 'utf8')).split('\n').map((l) => l.trim());
    expect(ignore).toEqual(expect.arrayContaining(['**/node_modules', 'dist', '.git', '.env']));
    for (const needed of ['src', 'commands', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'])
      expect(ignore).not.toContain(needed);
    // The deployments run the image as the Dockerfile's user.
    const [d] = ofKind(rendered('overlays/all-in-one'), 'Deployment');
    expect(d!.spec.template.spec.securityContext).toMatchObject({ runAsUser: 10001, runAsGroup: 10001 });
  });
});
