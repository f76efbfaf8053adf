import { describe, expect, it } from 'vitest';
import type { CoreV1Event, V1PodSpec } from '@kubernetes/client-node';
import { MASKED, envLine, groupEvents, summarizePodSpec } from '../../src/kube/describe.js';
import { describeView, eventsView } from '../../src/slack/views/describe.js';

const spec: V1PodSpec = {
  containers: [
    {
      name: 'web',
      image: 'registry.example.com/web:1.2.3',
      command: ['java'],
      args: ['-Xmx512m', '-jar', 'app with space.jar'],
      env: [
        { name: 'LOG_LEVEL', value: 'info' },
        { name: 'DB_PASSWORD', value: 'hunter2' },
        { name: 'API_TOKEN', value: 'tok-123' },
        { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      ],
      envFrom: [{ configMapRef: { name: 'web-config' } }, { secretRef: { name: 'web-secrets' } }],
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
      readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 },
      livenessProbe: { tcpSocket: { port: 8080 } },
      ports: [{ name: 'http', containerPort: 8080 }],
      volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }],
    },
    { name: 'sidecar', image: 'envoy:1.30' },
  ],
  volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'web-data' } }],
  nodeSelector: { workload: 'web' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }],
  topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' }],
};

describe('describe: the pod template', () => {
  it('masks secret keys, names that hold credentials and values from Secrets, and names every source', () => {
    expect(envLine({ name: 'DB_PASSWORD', value: 'hunter2' }, ['DB_PASSWORD'])).toBe(`DB_PASSWORD=${MASKED}`);
    expect(envLine({ name: 'CUSTOM', value: 'x' }, ['CUSTOM'])).toBe(`CUSTOM=${MASKED}`);
    expect(envLine({ name: 'API_TOKEN', value: 'tok' }, [])).toBe(`API_TOKEN=${MASKED}`);
    expect(envLine({ name: 'S', valueFrom: { secretKeyRef: { name: 'db', key: 'pw' } } }, [])).toBe('S ← secret db/pw');
    expect(envLine({ name: 'LOG_LEVEL', value: 'info' }, [])).toBe('LOG_LEVEL=info');
  });

  it('summarizes command, args, resources, probes, ports, mounts, volumes and placement', () => {
    const s = summarizePodSpec(spec, []);
    const web = s.containers[0]!;
    expect(web.command).toBe('java');
    expect(web.args).toBe('-Xmx512m -jar "app with space.jar"');
    expect(web.resources).toBe('requests cpu=100m, memory=128Mi; limits memory=256Mi');
    expect(web.probes).toEqual([
      'readiness: http-get http://:8080/healthz delay=0s timeout=1s period=5s #success=1 #failure=3',
      'liveness: tcp-socket :8080 delay=0s timeout=1s period=10s #success=1 #failure=3',
    ]);
    expect(web.ports).toEqual(['http 8080/TCP']);
    expect(web.mounts).toEqual(['/data ← data (ro)']);
    expect(web.envFrom).toEqual(['all keys of configmap web-config', 'all keys of secret web-secrets']);
    expect(s.containers[1]!.resources).toBe('none set (BestEffort)');
    expect(s.volumes).toEqual(['data: pvc web-data']);
    expect(s.placement).toEqual([
      'nodeSelector workload=web',
      'toleration dedicated=web:NoSchedule',
      'spread over topology.kubernetes.io/zone (max skew 1, ScheduleAnyway)',
    ]);
    const all = JSON.stringify(s);
    expect(all).not.toContain('hunter2');
    expect(all).not.toContain('tok-123');
  });

  it('goes up as a file when it does not fit, with a summary that still names the app', () => {
    const many: V1PodSpec = { containers: Array.from({ length: 45 }, (_, i) => ({ name: `c${i}`, image: `img:${i}` })) };
    const view = describeView({
      app: 'web',
      env: 'beta',
      namespace: 'beta',
      deployment: { metadata: { name: 'web' }, spec: { selector: {}, template: { spec: many } } },
      template: summarizePodSpec(many, []),
      pods: [],
      events: [],
      now: 0,
    });
    expect(view.fits).toBe(false);
    expect(view.fullText).toContain('container c44');
    expect(JSON.stringify(view.summary)).toContain('describe web in beta');
  });
});

const event = (reason: string, type: string, name: string, count: number, at: number, message = 'm'): CoreV1Event => ({
  metadata: { name: `${name}.${reason}` },
  involvedObject: { kind: 'Pod', name },
  reason,
  type,
  count,
  message,
  lastTimestamp: new Date(at),
});

describe('events: grouped by reason', () => {
  const events = [
    event('BackOff', 'Warning', 'p1', 3, 5_000, 'newest'),
    event('BackOff', 'Warning', 'p2', 2, 4_000),
    event('Pulled', 'Normal', 'p1', 1, 6_000),
    event('Old', 'Warning', 'p1', 9, 100),
  ];

  it('sums counts across pods, keeps the latest message and sorts newest first', () => {
    const groups = groupEvents(events);
    expect(groups.map((g) => [g.reason, g.count, g.objects.length])).toEqual([
      ['Pulled', 1, 1],
      ['BackOff', 5, 2],
      ['Old', 9, 1],
    ]);
    expect(groups[1]!.message).toBe('newest');
  });

  it('drops what is older than --since and keeps only warnings with --warnings', () => {
    expect(groupEvents(events, { since: 1_000, warningsOnly: true }).map((g) => g.reason)).toEqual(['BackOff']);
  });

  it('says so when there is nothing', () => {
    expect(eventsView({ app: 'web', env: 'beta', sinceLabel: '1h', warningsOnly: true, groups: [] }).text).toBe(
      'No warnings of web in beta, last 1h.',
    );
  });
});
