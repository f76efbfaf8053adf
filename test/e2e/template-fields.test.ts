import { beforeAll, describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';

/** Every template field of a rendered app, deployed end to end: what reaches the emulator, accepted and rolled out. */
const CONFIG = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
apps:
  web:
    image: registry.example.com/team/web
    replicas: 2
    progressDeadlineSeconds: 10
    ports: { http: 8080, metrics: 9090 }
    healthCheck: { http: { path: /healthz, port: http }, periodSeconds: 5 }
    nodeSelector: { kubernetes.io/os: linux }
    tolerations: [{ key: dedicated, operator: Equal, value: web, effect: NoSchedule }]
    affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: disk, operator: In, values: [ssd] }] } }] } }
    spread: zone
    command: [/app/server]
    args: [--port, "8080"]
    labels: { team: payments }
    annotations: { prometheus.io/scrape: "true" }
    serviceAccountName: web-sa
    ingress: { host: web.example.com, path: /api, className: nginx, tls: true }
    maxSurge: 25%
    maxUnavailable: 0
    minReadySeconds: 1
    environments:
      beta: { spread: node, maxSurge: 1 }
channels:
  C0OPS: { environments: ["*"], commands: ["*"] }
alerts: []
`;

const h = useHarness({ name: 'template-fields', config: CONFIG });
beforeAll(() => {
  // the ServiceAccount admission plugin refuses pods whose service account does not exist
  h.kube.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web-sa', namespace: 'beta' } });
});

describe('a rendered app with every template field', () => {
  it('is applied, accepted by the emulator and rolled out, with the per-environment overrides', async () => {
    await h.deployAndWait('web', 'beta', '1.0', { channel: 'C0OPS' });

    const d = h.kube.get('apps/v1', 'Deployment', 'beta', 'web');
    expect(d.metadata.labels).toMatchObject({ team: 'payments', 'app.kubernetes.io/name': 'web' });
    expect(d.spec.minReadySeconds).toBe(1);
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    const pod = d.spec.template;
    expect(pod.metadata.labels.team).toBe('payments');
    expect(pod.metadata.annotations['prometheus.io/scrape']).toBe('true');
    expect(pod.spec.serviceAccountName).toBe('web-sa');
    expect(pod.spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod.spec.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }]);
    expect(pod.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight).toBe(10);
    expect(pod.spec.topologySpreadConstraints).toEqual([
      expect.objectContaining({ topologyKey: 'kubernetes.io/hostname', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway' }),
    ]);
    const [container] = pod.spec.containers;
    expect(container.command).toEqual(['/app/server']);
    expect(container.args).toEqual(['--port', '8080']);
    expect(container.ports).toEqual([
      expect.objectContaining({ name: 'http', containerPort: 8080 }),
      expect.objectContaining({ name: 'metrics', containerPort: 9090 }),
    ]);
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 });
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'http' } });
    expect(container.startupProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'http' } });

    const svc = h.kube.get('v1', 'Service', 'beta', 'web');
    expect(svc.spec.ports.map((p: any) => [p.name, p.port, p.targetPort])).toEqual([
      ['http', 8080, 'http'],
      ['metrics', 9090, 'metrics'],
    ]);
    const ingress = h.kube.get('networking.k8s.io/v1', 'Ingress', 'beta', 'web');
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.tls).toEqual([{ hosts: ['web.example.com'], secretName: 'web-tls' }]);
    expect(ingress.spec.rules[0]).toMatchObject({
      host: 'web.example.com',
      http: { paths: [{ path: '/api', backend: { service: { name: 'web', port: { name: 'http' } } } }] },
    });

    const pods = h.kube.list('v1', 'Pod', 'beta').filter((p) => p.metadata.labels['app.kubernetes.io/name'] === 'web');
    expect(pods).toHaveLength(2);
    expect(pods.every((p) => p.spec.serviceAccountName === 'web-sa' && p.status.phase === 'Running')).toBe(true);
  });
});
