import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeEmulator, type KubeEmulator } from './support/kube/index.js';
import { startPrometheusEmulator, type PrometheusEmulator } from './support/prometheus.js';

const Mi = 2 ** 20;
let kube: KubeEmulator;
let prom: PrometheusEmulator;

const get = async (path: string, init?: RequestInit) => {
  const res = await fetch(`${kube.url}${path}`, init);
  return { status: res.status, body: (await res.json()) as any };
};
const memoryOf = (m: any, container = 'app') => {
  const q = m.containers.find((c: any) => c.name === container).usage.memory as string;
  expect(q).toMatch(/^\d+Ki$/);
  return Number(q.slice(0, -2)) * 1024;
};

beforeAll(async () => {
  kube = await startKubeEmulator({ nodes: 1, namespaces: ['beta'] });
  prom = await startPrometheusEmulator({
    runs: () => kube.metrics.allRuns(),
    scrapeIntervalMs: 50,
    requireHeaders: { 'X-Scope-OrgID': 'team' },
  });
  kube.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'beta', labels: { app: 'web' } },
    spec: {
      nodeName: 'node-1',
      containers: [{ name: 'app', image: 'web:1', resources: { requests: { memory: '128Mi', cpu: '100m' }, limits: { memory: '256Mi' } } }],
    },
  });
  await kube.waitFor(() => kube.get('v1', 'Pod', 'beta', 'web-1')?.status?.containerStatuses?.[0]?.state?.running, 5000, 'web-1 running');
});
afterAll(async () => {
  await prom?.close();
  await kube?.close();
});

describe('metrics.k8s.io in the Kubernetes emulator', () => {
  it('is discoverable like an aggregated API', async () => {
    const groups = await get('/apis');
    expect(groups.body.groups.map((g: any) => g.name)).toContain('metrics.k8s.io');
    const list = await get('/apis/metrics.k8s.io/v1beta1');
    expect(list.body.resources.map((r: any) => `${r.name}:${r.kind}:${r.namespaced}:${r.verbs.join(',')}`)).toEqual([
      'nodes:NodeMetrics:false:get,list',
      'pods:PodMetrics:true:get,list',
    ]);
  });

  it('reports running pods near their request, nodes with their pods, by list and by name', async () => {
    const list = await get('/apis/metrics.k8s.io/v1beta1/namespaces/beta/pods?labelSelector=app%3Dweb');
    expect(list.status).toBe(200);
    expect(list.body.kind).toBe('PodMetricsList');
    expect(list.body.items.map((i: any) => i.metadata.name)).toEqual(['web-1']);
    const memory = memoryOf(list.body.items[0]);
    expect(memory).toBeGreaterThan(120 * Mi);
    expect(memory).toBeLessThan(136 * Mi);
    expect(list.body.items[0].containers[0].usage.cpu).toBe('40000000n');
    expect((await get('/apis/metrics.k8s.io/v1beta1/namespaces/beta/pods?labelSelector=app%3Dother')).body.items).toEqual([]);
    const one = await get('/apis/metrics.k8s.io/v1beta1/namespaces/beta/pods/web-1');
    expect(one.body.kind).toBe('PodMetrics');
    const node = await get('/apis/metrics.k8s.io/v1beta1/nodes/node-1');
    expect(node.body.kind).toBe('NodeMetrics');
    expect(Number(node.body.usage.memory.slice(0, -2)) * 1024).toBeGreaterThan(memory);
  });

  it('refuses as metrics-server does: unknown pod 404, watch and writes 405, RBAC 403', async () => {
    const missing = await get('/apis/metrics.k8s.io/v1beta1/namespaces/beta/pods/nope');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'podmetrics.metrics.k8s.io "beta/nope" not found' });
    expect((await get('/apis/metrics.k8s.io/v1beta1/namespaces/beta/pods?watch=true')).status).toBe(405);
    expect((await get('/apis/metrics.k8s.io/v1beta1/namespaces/beta/pods', { method: 'POST', body: '{}' })).status).toBe(405);
    kube.deny({ verb: 'list', resource: 'pods', group: 'metrics.k8s.io', namespace: 'beta' });
    try {
      const denied = await get('/apis/metrics.k8s.io/v1beta1/namespaces/beta/pods');
      expect(denied.status).toBe(403);
      expect(denied.body.message).toContain('cannot list resource "pods" in API group "metrics.k8s.io" in the namespace "beta"');
      expect((await get('/api/v1/namespaces/beta/pods')).status).toBe(200);
    } finally {
      kube.clearDenies();
    }
  });

  it('climbs to the limit before an announced OOM kill, then the container restarts', async () => {
    const killed = kube.oomKillAfterRise('beta', 'web-1', 600, { restartAfterMs: 50 });
    const before = memoryOf((await get('/apis/metrics.k8s.io/v1beta1/namespaces/beta/pods/web-1')).body);
    // Reported while the container still runs (a killed container has no metrics): the climb before the kill.
    let later = before;
    await expect
      .poll(async () => (later = memoryOf((await get('/apis/metrics.k8s.io/v1beta1/namespaces/beta/pods/web-1')).body)), {
        timeout: 2000,
        interval: 20,
      })
      .toBeGreaterThan(before + 40 * Mi);
    expect(later).toBeLessThanOrEqual(256 * Mi);
    expect(await killed).toBe(true);
    const status = await kube.waitFor(
      () =>
        kube.get('v1', 'Pod', 'beta', 'web-1')?.status?.containerStatuses?.[0]?.state?.running && kube.get('v1', 'Pod', 'beta', 'web-1'),
      5000,
      'restarted',
    );
    expect(status.status.containerStatuses[0].lastState.terminated.reason).toBe('OOMKilled');
    const runs = kube.metrics.allRuns('beta');
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ reason: 'OOMKilled' });
  });

  it('is absent when metrics-server is not installed', async () => {
    kube.setMetricsServer(false);
    try {
      expect((await get('/apis')).body.groups.map((g: any) => g.name)).not.toContain('metrics.k8s.io');
      expect((await get('/apis/metrics.k8s.io/v1beta1/namespaces/beta/pods')).status).toBe(404);
    } finally {
      kube.setMetricsServer(true);
    }
  });
});

describe('Prometheus emulator', () => {
  const headers = { 'X-Scope-OrgID': 'team' };
  const query = async (params: Record<string, string>) => {
    const res = await fetch(`${prom.url}/api/v1/query_range?${new URLSearchParams(params).toString()}`, { headers });
    return { status: res.status, body: (await res.json()) as any };
  };
  const range = () => {
    const end = Date.now() / 1000;
    return { start: String(end - 60), end: String(end), step: '0.05' };
  };

  it('answers query_range with a matrix per container instance, rising to the limit before the kill', async () => {
    // The restarted instance appears at its first scrape.
    await expect
      .poll(async () => (await query({ query: 'container_memory_working_set_bytes{pod="web-1"}', ...range() })).body.data.result.length)
      .toBe(2);
    const { status, body } = await query({
      query: 'container_memory_working_set_bytes{namespace="beta",pod="web-1",container="app"}',
      ...range(),
    });
    expect(status).toBe(200);
    expect(body.status).toBe('success');
    expect(body.data.resultType).toBe('matrix');
    expect(body.data.result).toHaveLength(2);
    const first = body.data.result[0];
    expect(first.metric).toMatchObject({
      __name__: 'container_memory_working_set_bytes',
      namespace: 'beta',
      pod: 'web-1',
      container: 'app',
      job: 'kubelet',
    });
    const values = first.values.map(([, v]: [number, string]) => Number(v));
    expect(Math.max(...values)).toBeGreaterThan(200 * Mi);
    expect(Math.max(...values)).toBeLessThanOrEqual(256 * Mi);
    expect(typeof first.values[0][0]).toBe('number');
  });

  it('takes a form POST and regex matchers; an unknown metric is an empty result', async () => {
    const res = await fetch(`${prom.url}/api/v1/query_range`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: 'container_memory_working_set_bytes{pod=~"web-.*",container!=""}', ...range() }).toString(),
    });
    expect(((await res.json()) as any).data.result.length).toBe(2);
    expect((await query({ query: 'nope_bytes{pod="web-1"}', ...range() })).body).toEqual({
      status: 'success',
      data: { resultType: 'matrix', result: [] },
    });
  });

  it('refuses bad queries and parameters with bad_data, and requests without the required headers with 401', async () => {
    const bad = async (params: Record<string, string>, error: RegExp) => {
      const { status, body } = await query(params);
      expect(status).toBe(400);
      expect(body).toMatchObject({ status: 'error', errorType: 'bad_data' });
      expect(body.error).toMatch(error);
    };
    await bad({ query: 'container_memory_working_set_bytes{pod=}', ...range() }, /^invalid parameter "query": .*parse error/);
    await bad({ query: '', ...range() }, /invalid parameter "query"/);
    await bad({ query: 'up', ...range(), start: 'yesterday' }, /invalid parameter "start": cannot parse "yesterday" to a valid timestamp/);
    await bad({ query: 'up', ...range(), step: '0' }, /zero or negative query resolution step/);
    await bad({ query: 'up', ...range(), step: 'fast' }, /invalid parameter "step": cannot parse "fast" to a valid duration/);
    await bad({ query: 'up', start: '100', end: '50', step: '1' }, /end timestamp must not be before start time/);
    await bad({ query: 'up', start: '0', end: '100000', step: '1' }, /exceeded maximum resolution of 11,000 points/);
    const res = await fetch(`${prom.url}/api/v1/query_range?query=up`);
    expect(res.status).toBe(401);
  });
});
