import { beforeAll, describe, expect, it } from 'vitest';
import { E2E_CONFIG } from '../support/harness.js';
import { useHarness } from '../support/use-harness.js';

const OPS = 'C0OPS';
const CONFIG = (kubeconfig: string) => `${E2E_CONFIG(kubeconfig)}debug: { maxPerApp: 2, maxTtl: 2h }\n`;
const DEBUG_LABEL = 'k8s-chatops.io/debug-of';

const h = useHarness({ name: 'debug-verb', config: CONFIG });
const copies = () =>
  h.kube.list('v1', 'Pod', 'beta').filter((p) => p.metadata.labels?.[DEBUG_LABEL] === 'myapp' && !p.metadata.deletionTimestamp);
const buttonValue = (blocks: any[] | undefined): string | undefined =>
  (blocks ?? [])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements)
    .find((e: any) => e.action_id === 'chatops_run')?.value;

/** Starts a debug copy and returns its name, thread and the Delete-now message. */
async function startCopy(extra = ''): Promise<{ name: string; threadTs: string; offer: any }> {
  const since = h.mark();
  const before = new Set(copies().map((p) => p.metadata.name));
  const res = await h.command(`debug myapp beta${extra}`, { channel: OPS, user: 'U0OPS' });
  expect(res.json.text).toContain('Queued');
  const call = await h.slack.waitForCall(
    (c) => c.seq > since && c.method === 'chat.postMessage' && /Debug copy `/.test(c.args.text ?? ''),
    15_000,
  );
  const threadTs = call.args.thread_ts as string;
  const offer = h.slack.thread(OPS, threadTs).find((m) => buttonValue(m.blocks));
  const created = copies().find((p) => !before.has(p.metadata.name));
  expect(created, 'a new debug copy in the cluster').toBeDefined();
  return { name: created.metadata.name, threadTs, offer };
}

/** The job's answer: privately on its response_url, or as its thread's headline when it had to wait for the target lock. */
async function outcome(res: { responseUrl: string }, pattern: RegExp): Promise<string> {
  const id = res.responseUrl.split('/').pop();
  return Promise.any([
    h.slack.waitForResponse((r) => r.id === id && pattern.test(r.body.text ?? ''), 15_000).then((r) => r.body.text as string),
    h.slack.waitForCall((c) => c.method === 'chat.update' && pattern.test(c.args.text ?? ''), 15_000).then((c) => c.args.text as string),
  ]);
}

beforeAll(async () => {
  await h.deployAndWait('myapp', 'beta', '1.0.0', { channel: OPS, user: 'U0OPS' });
}, 30_000);

describe('/k8s debug', () => {
  it('makes a sleeping copy outside the Service, says how to reach it, and deletes it at its TTL', async () => {
    const { name, offer } = await startCopy(' --ttl 30m');
    const pod = h.kube.get('v1', 'Pod', 'beta', name);
    const app = pod.spec.containers[0];
    expect(app.command).toEqual(['sleep', '1800']);
    expect(app.readinessProbe).toBeUndefined();
    expect(app.livenessProbe).toBeUndefined();
    expect(pod.spec.activeDeadlineSeconds).toBe(1800);
    expect(pod.metadata.ownerReferences ?? []).toEqual([]);
    expect(pod.metadata.annotations['k8s-chatops.io/debug-requested-by']).toBeDefined();
    // The Service selects by the app label; the copy carries none of the pod's labels.
    const service = h.kube.get('v1', 'Service', 'beta', 'myapp');
    for (const [k, v] of Object.entries(service.spec.selector as Record<string, string>)) expect(pod.metadata.labels[k]).not.toBe(v);
    expect(JSON.stringify(offer.blocks)).toContain(`kubectl exec -it -n beta ${name}`);
    await h.kube.waitFor(() => h.kube.get('v1', 'Pod', 'beta', name)?.status?.phase === 'Running', 10_000, 'the copy runs');

    // The delete at the TTL is a delayed job in Redis; promoting it is the clock reaching the TTL.
    const delayed = (await h.chatops.queue.getJobs(['delayed'])).filter(
      (j) => j.data.verb === 'debug' && (j.data.args as any).delete === name,
    );
    expect(delayed).toHaveLength(1);
    expect(delayed[0]!.opts.delay).toBe(1_800_000);
    await delayed[0]!.promote();
    await h.kube.waitFor(() => !h.kube.get('v1', 'Pod', 'beta', name), 15_000, 'the copy is deleted at its TTL');
  });

  it('deletes a copy with the Delete now button, in its thread', async () => {
    const { name, offer, threadTs } = await startCopy();
    const value = buttonValue(offer.blocks)!;
    await h.click({
      user_id: 'U0OPS',
      channel_id: OPS,
      message_ts: offer.ts,
      thread_ts: threadTs,
      action_id: 'chatops_run',
      value,
      response_url: h.slack.newResponseUrl(),
    });
    await h.kube.waitFor(() => !h.kube.get('v1', 'Pod', 'beta', name), 15_000, 'the copy is deleted by the button');
    await h.slack.waitForCall(
      (c) => c.method === 'chat.postMessage' && c.args.thread_ts === threadTs && /Deleted debug copy/.test(c.args.text ?? ''),
      10_000,
    );
  });

  it('keeps at most maxPerApp copies, and never deletes a pod that is not a copy', async () => {
    await startCopy();
    await startCopy();
    const res = await h.command('debug myapp beta', { channel: OPS, user: 'U0OPS' });
    expect(await outcome(res, /at most 2 at a time/)).toContain('already has 2 debug copies');
    expect(copies()).toHaveLength(2);

    const ordinary = h.kube.list('v1', 'Pod', 'beta').find((p) => p.metadata.labels?.['app.kubernetes.io/name'] === 'myapp');
    const del = await h.command(`debug myapp beta --delete ${ordinary.metadata.name}`, { channel: OPS, user: 'U0OPS' });
    expect(await outcome(del, /not a debug copy/)).toContain('leaves it alone');
    expect(h.kube.get('v1', 'Pod', 'beta', ordinary.metadata.name)).toBeDefined();
  });

  it('refuses a TTL above debug.maxTtl and a channel without the verb, before any cluster call', async () => {
    const before = h.kube.requests.length;
    const long = await h.command('debug myapp beta --ttl 3h', { channel: OPS, user: 'U0OPS' });
    expect(long.json.text).toContain('ttl is at most 2h');
    const dev = await h.command('debug myapp beta', { channel: 'C0DEVTEAM', user: 'U0DEV' });
    expect(dev.json.text).toMatch(/may not|not allowed/i);
    expect(h.kube.requests.length).toBe(before);
  });
});
