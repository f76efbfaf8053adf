/** What the bot needs from its pods in every overlay: locked-down containers, probes, config, Secrets, selectors, Redis, network policy. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../src/config/load.js';
import { KUSTOMIZE, OVERLAYS, kustomize, ofKind, renderEveryCase, type Manifest as Obj } from './support/kustomize.js';

const rendered = renderEveryCase();
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

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
