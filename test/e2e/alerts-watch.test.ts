import { beforeAll, describe, expect, it } from 'vitest';
import { watchRestartsTotal } from '../../src/server/metrics.js';
import { useHarness } from '../support/use-harness.js';
import { alertConfig, alertsMatching, podsOf, runningDeployment, waitForAlert, waitForThreadReply } from './alerts-fixtures.js';

// recoverAfter 1m (the fixture takes pendingFor): the workload does not "recover" between kills, so every kill counts in one incident.
const h = useHarness({ name: 'alerts-watch', config: alertConfig({ pendingFor: '1m' }) });
let pods: any[];
let alertTs: string;
beforeAll(async () => {
  pods = await runningDeployment(h.kube, 'beta', 'relist', { replicas: 4 });
  h.kube.oomKill('beta', pods[0].metadata.name);
  alertTs = (await waitForAlert(h.slack, /OOMKilled · deployment relist · beta/)).ts;
});

const podWatches = (since: number) =>
  h.kube.requests.slice(since).filter((r) => r.path === '/api/v1/namespaces/beta/pods' && ['true', '1'].includes(String(r.query.watch)));
const podLists = (since: number) => h.kube.requests.slice(since).filter((r) => r.path === '/api/v1/namespaces/beta/pods' && !r.query.watch);
const restarts = async () => (await watchRestartsTotal.get()).values.find((v) => v.labels.resource === 'pods')?.value ?? 0;

describe('the pod watch', () => {
  it('re-lists after 410 Gone and repeats nothing', async () => {
    await h.kube.waitFor(
      () => podsOf(h.kube, 'beta', 'relist').every((p) => p.status.containerStatuses[0].ready),
      5_000,
      'the killed pod running again',
    );
    const since = h.kube.requests.length;
    // Something else changes (so the watch's last resourceVersion is behind), history is compacted, the watch ends.
    h.kube.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unrelated', namespace: 'default' }, data: {} });
    h.kube.compactHistory();
    h.kube.dropWatches();
    // Resuming from the old resourceVersion gets 410: the informer lists again, then watches from the list.
    await h.kube.waitFor(
      () => {
        const relist = podLists(since)[0];
        return relist && podWatches(h.kube.requests.indexOf(relist)).length > 0;
      },
      5_000,
      'a re-list, then a new watch',
    );
    h.kube.oomKill('beta', pods[1].metadata.name);
    // Had the re-list counted the first kill again, this would say 3.
    await waitForThreadReply(h.slack, alertTs, new RegExp(`Again: OOMKilled in pod \`${pods[1].metadata.name}\` — 2 in total`));
    expect(alertsMatching(h.slack, /deployment relist/)).toHaveLength(1);
  });

  it('loses nothing while the watch is down: a kill during an abrupt drop is found by the re-list', async () => {
    const before = await restarts();
    const since = h.kube.requests.length;
    h.kube.dropWatches({ abrupt: true });
    h.kube.oomKill('beta', pods[2].metadata.name);
    h.kube.compactHistory();
    await waitForThreadReply(h.slack, alertTs, new RegExp(`OOMKilled in pod \`${pods[2].metadata.name}\` — 3 in total`));
    expect(podLists(since).length).toBeGreaterThan(0);
    expect(await restarts()).toBeGreaterThan(before);
    expect(alertsMatching(h.slack, /deployment relist/)).toHaveLength(1);
  });

  it('restarts a failing watch with growing backoff, and carries on when it works again', async () => {
    const since = h.kube.requests.length;
    h.kube.deny({ verb: 'watch', resource: 'pods', namespace: 'beta' });
    h.kube.dropWatches();
    const attempts = await h.kube.waitFor(
      () => {
        const w = podWatches(since);
        return w.length >= 4 ? w : undefined;
      },
      10_000,
      'four refused watches',
    );
    const gaps = attempts.slice(1, 4).map((w, i) => w.at - attempts[i]!.at);
    // 250 ms, 500 ms, 1 s (±20 % jitter): each wait longer than the one before.
    expect(gaps[1]!).toBeGreaterThan(gaps[0]!);
    expect(gaps[2]!).toBeGreaterThan(gaps[1]!);
    h.kube.clearDenies();
    h.kube.oomKill('beta', pods[3].metadata.name);
    await waitForThreadReply(h.slack, alertTs, new RegExp(`OOMKilled in pod \`${pods[3].metadata.name}\` — 4 in total`), 15_000);
  });
});
