import type { AppConfig } from '../../src/config/schema.js';
import { describe, expect, it } from 'vitest';
import { DaemonSet, Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { parseConfig } from '../../src/config/load.js';
import { templateFields } from '../../src/config/workload-schema.js';
import { TEMPLATE_KEYS, appForEnvironment, renderApp, type RenderedApp } from '../../src/kube/render.js';

const config = parseConfig(
  `
environments:
  beta: { namespace: beta }
  prod: { namespace: prod }
apps:
  web:
    image: r/web
    ports: { http: 8080, metrics: 9090 }
    healthCheck: { http: { path: /healthz, port: http } }
    nodeSelector: { workload: web }
    tolerations: [{ key: dedicated, operator: Equal, value: web, effect: NoSchedule }]
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: disk, operator: In, values: [ssd] }] }] } } }
    spread: zone
    command: [/app/server]
    args: [--port, "8080"]
    labels: { team: payments }
    annotations: { prometheus.io/scrape: "true" }
    serviceAccountName: web-sa
    ingress: { host: web.example.com, className: nginx, tls: true }
    maxSurge: 25%
    maxUnavailable: 0
    minReadySeconds: 5
    environments:
      prod: { spread: node, healthCheck: { tcp: 8080, liveness: false, startupSeconds: 0 }, maxSurge: 1 }
  db:
    image: r/db
    kind: StatefulSet
    port: 5432
    replicas: 3
    healthCheck: { exec: [pg_isready], periodSeconds: 5 }
    storage: { size: 10Gi, mountPath: /var/lib/postgresql, storageClass: fast }
    maxUnavailable: 1
  agent:
    image: r/agent
    kind: DaemonSet
    tolerations: [{ operator: Exists }]
    maxUnavailable: 10%
`,
  'c.yaml',
);

const render = (app: string, envName = 'beta'): RenderedApp =>
  renderApp({
    appName: app,
    app: config.apps[app]!,
    envName,
    namespace: envName,
    version: '1.0.0',
    requestedBy: 'dev',
    channelId: 'C1',
    requestId: 'r1',
    configData: {},
  });

const MODELS: Record<string, new (data: any) => { validate(): void }> = { Deployment, StatefulSet, DaemonSet, Service, Ingress, ConfigMap };
function validateAll(rendered: RenderedApp): string[] {
  const objs = [rendered.workload, rendered.configMap, rendered.service, rendered.headlessService, rendered.ingress].filter(
    (o) => o !== undefined,
  );
  return objs.flatMap((o) => {
    try {
      new MODELS[o.kind!]!(JSON.parse(JSON.stringify(o))).validate();
      return [];
    } catch (err) {
      return [`${o.kind}: ${(err as Error).message}`];
    }
  });
}

describe('rendered template fields', () => {
  it('renders every field of a Deployment app, and each object validates against the Kubernetes schemas', () => {
    const r = render('web');
    expect(validateAll(r)).toEqual([]);
    const spec = (r.workload as any).spec;
    const pod = spec.template.spec;
    const c = pod.containers[0];
    expect(c.ports.map((p: any) => [p.name, p.containerPort])).toEqual([
      ['http', 8080],
      ['metrics', 9090],
    ]);
    expect(c.readinessProbe).toMatchObject({
      httpGet: { path: '/healthz', port: 'http' },
      periodSeconds: 10,
      timeoutSeconds: 2,
      failureThreshold: 3,
    });
    expect(c.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'http' } });
    expect(c.startupProbe).toMatchObject({ periodSeconds: 5, failureThreshold: 24 });
    expect([c.command, c.args]).toEqual([['/app/server'], ['--port', '8080']]);
    expect(pod.nodeSelector).toEqual({ workload: 'web' });
    expect(pod.tolerations).toHaveLength(1);
    expect(pod.affinity.nodeAffinity).toBeDefined();
    expect(pod.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'web' } },
      },
    ]);
    expect(pod.serviceAccountName).toBe('web-sa');
    expect(spec.template.metadata.labels.team).toBe('payments');
    expect(spec.template.metadata.annotations['prometheus.io/scrape']).toBe('true');
    expect(spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } });
    expect(spec.minReadySeconds).toBe(5);
    expect(r.service?.spec?.ports?.map((p) => p.name)).toEqual(['http', 'metrics']);
    expect(r.ingress?.spec).toEqual({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['web.example.com'], secretName: 'web-tls' }],
      rules: [
        {
          host: 'web.example.com',
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { name: 'http' } } } }] },
        },
      ],
    });
  });

  it('applies per-environment overrides field by field', () => {
    const r = render('web', 'prod');
    expect(validateAll(r)).toEqual([]);
    const spec = (r.workload as any).spec;
    const c = spec.template.spec.containers[0];
    expect(spec.template.spec.topologySpreadConstraints[0].topologyKey).toBe('kubernetes.io/hostname');
    expect(c.readinessProbe.tcpSocket).toEqual({ port: 8080 });
    expect(c.livenessProbe).toBeUndefined();
    expect(c.startupProbe).toBeUndefined();
    expect(spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(spec.template.spec.nodeSelector).toEqual({ workload: 'web' });
  });

  it('renders a StatefulSet with a volumeClaimTemplate and a headless Service', () => {
    const r = render('db');
    expect(validateAll(r)).toEqual([]);
    const spec = (r.workload as any).spec;
    expect(r.workload.kind).toBe('StatefulSet');
    expect(spec.serviceName).toBe('db-headless');
    expect(spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
    expect(spec.volumeClaimTemplates[0].spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      storageClassName: 'fast',
      resources: { requests: { storage: '10Gi' } },
    });
    expect(spec.template.spec.containers[0].volumeMounts).toEqual([{ name: 'data', mountPath: '/var/lib/postgresql' }]);
    expect(spec.template.spec.containers[0].readinessProbe.exec).toEqual({ command: ['pg_isready'] });
    expect(r.headlessService?.spec).toMatchObject({ clusterIP: 'None', selector: { 'app.kubernetes.io/name': 'db' } });
  });

  it('renders a DaemonSet without replicas', () => {
    const r = render('agent');
    expect(validateAll(r)).toEqual([]);
    const spec = (r.workload as any).spec;
    expect(r.workload.kind).toBe('DaemonSet');
    expect(spec.replicas).toBeUndefined();
    expect(spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } });
    expect(r.service).toBeUndefined();
  });

  it('lets per-environment overrides replace every template field of the config schema', () => {
    expect(TEMPLATE_KEYS).toEqual(Object.keys(templateFields));
    for (const key of TEMPLATE_KEYS) {
      const app = { image: 'x', env: {}, [key]: `app-${key}`, environments: { prod: { [key]: `prod-${key}` } } } as unknown as AppConfig;
      expect(appForEnvironment(app, 'prod')[key], key).toBe(`prod-${key}`);
      expect(appForEnvironment(app, 'beta')[key], key).toBe(`app-${key}`);
    }
  });
});
