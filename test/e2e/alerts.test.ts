import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { alertConfig, alertsMatching, ONCALL, podsOf, runningDeployment, shown, waitForAlert, waitForThreadReply, waitForUpdate } from './alerts-fixtures.js';

let h: Harness;
let redis: Redis;
beforeAll(async () => {
  h = await startHarness({ name: 'alerts', config: alertConfig({ pendingFor: '300ms' }) });
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  redis?.disconnect();
  await h?.stop();
});

const IMAGE = (name: string, tag = '1.0.0') => `registry.example.com/team/${name}:${tag}`;
const buttonValue = (m: { blocks?: any[] }, actionId: string, text?: string): string | undefined =>
  m.blocks?.flatMap((b) => (b.type === 'actions' ? b.elements : [])).find((e: any) => e.action_id === actionId && (!text || e.text.text === text))?.value;

describe('on-call alerts', () => {
  it('posts one message per OOMKilled workload with the diagnosis, threads further kills, says when it recovered', async () => {
    const [a, b] = await runningDeployment(h.kube, 'beta', 'leaky', { replicas: 2, limits: { memory: '256Mi' }, requests: { cpu: '10m', memory: '128Mi' } });
    h.kube.appendLogs('beta', a.metadata.name, ['cache warm-up: 180Mi', 'cache warm-up: 250Mi']);
    const killedAt = Date.now();
    h.kube.oomKill('beta', a.metadata.name);
    const alert = await waitForAlert(h.slack, /OOMKilled · deployment leaky · beta/);
    const text = shown(alert);
    expect(alert.versions[0]!.at - killedAt).toBeLessThan(1_000);
    expect(text).toContain(a.metadata.name);
    expect(text).toContain(`\`${a.spec.nodeName}\``);
    expect(text).toContain('*Container*\\n`app`');
    expect(text).toContain('256Mi / 128Mi');
    expect(text).toContain('*Restarts*\\n1');
    expect(text).toContain('(exit 137)');
    expect(text).toContain('cache warm-up: 250Mi');
    expect(text).toContain('The limit 256Mi is below what `app` reached');
    expect(text).toContain('Raise it (e.g. to 384Mi)');

    h.kube.oomKill('beta', b.metadata.name);
    await waitForThreadReply(h.slack, alert.ts, new RegExp(`Again: OOMKilled in pod \`${b.metadata.name}\` — 2 in total`));
    // Every pod healthy for pendingFor (300 ms): the thread says so and the headline turns green.
    await waitForThreadReply(h.slack, alert.ts, /Recovered: every pod of deployment leaky has been healthy/);
    const recovered = await waitForUpdate(h.slack, alert.ts, /Recovered — OOMKilled · deployment leaky · beta \(2 occurrences\)/);
    expect(shown(recovered)).not.toContain('Silence 1h');
    expect(alertsMatching(h.slack, /deployment leaky/)).toHaveLength(1);

    // After recovery, a new kill is a new incident: a new top-level message.
    h.kube.oomKill('beta', a.metadata.name);
    await h.slack.waitForCall((c) => c.method === 'chat.postMessage' && !c.args.thread_ts && /OOMKilled · deployment leaky/.test(c.args.text) && c.response.ts !== alert.ts);
    expect(alertsMatching(h.slack, /OOMKilled · deployment leaky/)).toHaveLength(2);
  });

  it('waits pendingFor before alerting an unschedulable pod, then names the node with the most room and what it lacks', async () => {
    h.kube.create({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'hungry', namespace: 'prod' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'hungry' } }, template: { metadata: { labels: { app: 'hungry' } }, spec: { containers: [{ name: 'app', image: IMAGE('hungry'), resources: { requests: { cpu: '500m', memory: '64Gi' } } }] } } },
    });
    await h.kube.waitFor(() => podsOf(h.kube, 'prod', 'hungry').find((p) => p.status?.conditions?.some((c: any) => c.reason === 'Unschedulable')), 5_000, 'an unschedulable pod');
    const pendingSeen = Date.now();
    const alert = await waitForAlert(h.slack, /Unschedulable · deployment hungry · prod/);
    // Never before pendingFor (small allowance for the emulator's event delivery).
    expect(alert.versions[0]!.at - pendingSeen).toBeGreaterThanOrEqual(280);
    const text = shown(alert);
    expect(text).toContain('*Scheduler says:* 0/3 nodes are available: 3 Insufficient memory.');
    expect(text).toContain('*Pod requests:* 500m CPU, 64Gi memory');
    expect(text).toMatch(/\*Most room:\* `node-\d` with [\d.]+m? CPU, [\d.]+\w+ memory free of 3 nodes — lacks [\d.]+\w+ memory/);
    expect(text).toContain('No node is big enough even when empty (largest: 4 CPU, 8Gi memory allocatable)');
    expect(text).toContain('in every namespace');
    expect(text).not.toContain('Show logs');
  });

  it('explains taints and a node selector when the scheduler names them', async () => {
    h.kube.addNode('gpu-1', { labels: { gpu: 'true' }, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
    h.kube.create({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'picky', namespace: 'beta' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'picky' } }, template: { metadata: { labels: { app: 'picky' } }, spec: { nodeSelector: { gpu: 'true' }, containers: [{ name: 'app', image: IMAGE('picky') }] } } },
    });
    const text = shown(await waitForAlert(h.slack, /Unschedulable · deployment picky · beta/));
    expect(text).toContain("node(s) didn't match Pod's node affinity/selector");
    expect(text).toContain('*Untolerated taints:* `gpu-1: dedicated=gpu:NoSchedule`');
    expect(text).toContain('*Node selector:* `gpu=true` matches 1 of 4 nodes');
    expect(text).toContain('add a toleration if the pod belongs there');
  });

  it('alerts an image that cannot be pulled with the image and the registry\'s error', async () => {
    h.kube.setImageBehavior(IMAGE('ghost', '9.9.9'), { kind: 'imagePullFailure' });
    h.kube.create({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'ghost', namespace: 'beta' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'ghost' } }, template: { metadata: { labels: { app: 'ghost' } }, spec: { containers: [{ name: 'app', image: IMAGE('ghost', '9.9.9') }] } } },
    });
    const text = shown(await waitForAlert(h.slack, /(ErrImagePull|ImagePullBackOff) · deployment ghost · beta/));
    expect(text).toContain(`*Image*\\n\`${IMAGE('ghost', '9.9.9')}\``);
    expect(text).toMatch(/\*Registry says:\* rpc error: code = NotFound desc = failed to pull and unpack image .*not found/);
    expect(text).toContain('The registry has no such image: check the tag');
  });

  describe('a crash loop, and the buttons on its alert', () => {
    let alert: Awaited<ReturnType<typeof waitForAlert>>;
    beforeAll(async () => {
      h.kube.setImageBehavior(IMAGE('crashy'), { kind: 'crashLoop', exitCode: 3, logLines: ['loading config', 'FATAL: DATABASE_URL is not set'] });
      h.kube.create({
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'crashy', namespace: 'beta' },
        spec: { replicas: 1, progressDeadlineSeconds: 2, selector: { matchLabels: { app: 'crashy' } }, template: { metadata: { labels: { app: 'crashy' } }, spec: { containers: [{ name: 'app', image: IMAGE('crashy') }] } } },
      });
      alert = await waitForAlert(h.slack, /CrashLoopBackOff · deployment crashy · beta/);
    });
    afterAll(() => {
      h.kube.remove('apps/v1', 'Deployment', 'beta', 'crashy');
    });

    it('alerts the crash loop with the exit code and the previous instance\'s last log lines', () => {
      const text = shown(alert);
      expect(text).toContain('*Last exit*\\n3 (Error)');
      expect(text).toContain('FATAL: DATABASE_URL is not set');
      expect(text).toContain('Last log lines of the previous instance');
    });

    it('Show logs answers the clicker alone with the last lines', async () => {
      const id = buttonValue(alert, 'chatops_alert_logs')!;
      expect(id).toMatch(/^[0-9a-f]{24}$/);
      await h.click({ user_id: 'U0ONCALL', channel_id: ONCALL, message_ts: alert.ts, action_id: 'chatops_alert_logs', value: id, response_url: h.slack.newResponseUrl() });
      const call = await h.slack.waitForCall((c) => c.method === 'chat.postEphemeral' && c.args.user === 'U0ONCALL');
      expect(call.args.channel).toBe(ONCALL);
      expect(call.args.text).toMatch(/Last 2 log lines of `crashy-[a-z0-9-]+` \/ `app`/);
      expect(call.args.text).toContain('FATAL: DATABASE_URL is not set');
    });

    it('Restart runs `restart crashy beta` as the clicker, reporting in the alert\'s thread', async () => {
      const withRestart = await waitForUpdate(h.slack, alert.ts, /"text":"Restart"/);
      const intent = buttonValue(withRestart, 'chatops_run', 'Restart')!;
      const responseUrl = h.slack.newResponseUrl();
      await h.click({ user_id: 'U0ONCALL', user_name: 'oncall', channel_id: ONCALL, message_ts: alert.ts, action_id: 'chatops_run', value: intent, response_url: responseUrl });
      const ack = await h.slack.waitForResponse((r) => r.id === responseUrl.split('/').pop());
      expect(ack.body.text).toContain('Queued `restart crashy in beta`');
      await waitForThreadReply(h.slack, alert.ts, /restart crashy in beta, requested by <@U0ONCALL>/);
      await h.kube.waitFor(() => h.kube.get('apps/v1', 'Deployment', 'beta', 'crashy')?.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'], 5_000, 'the restart annotation');
      // The new pods crash too: the rollout misses its 2 s deadline and the job says so in the same thread.
      await h.slack.waitForCall((c) => c.method === 'chat.update' && /restart crashy in beta — failed/.test(c.args.text), 10_000);
    });

    it('Silence 1h is stored with its expiry, said in the thread, and keeps the thread quiet while counting', async () => {
      const id = buttonValue(alert, 'chatops_alert_silence')!.split('|')[0]!;
      await h.click({ user_id: 'U0ONCALL', channel_id: ONCALL, message_ts: alert.ts, action_id: 'chatops_alert_silence', value: `${id}|1h`, response_url: h.slack.newResponseUrl() });
      const note = await waitForThreadReply(h.slack, alert.ts, /Silenced for 1h by <@U0ONCALL>/);
      const ttl = await redis.pttl(`${h.prefix}:chatops:alerts:silence:${id}`);
      expect(ttl).toBeGreaterThan(3_590_000);
      expect(ttl).toBeLessThanOrEqual(3_600_000);
      const silenced = await waitForUpdate(h.slack, alert.ts, /silenced until .* by <@U0ONCALL>/);
      const countAt = (m: { text: string }) => Number(/(\d+) occurrences/.exec(m.text)?.[1] ?? 1);
      const before = countAt(silenced);
      // The loop goes on: the count rises on the message, and nothing more is posted in the thread.
      const later = await h.slack.waitForCall((c) => c.method === 'chat.update' && c.args.ts === alert.ts && countAt({ text: c.args.text }) > before, 10_000);
      expect(later.args.text).toMatch(/CrashLoopBackOff · deployment crashy · beta — \d+ occurrences/);
      const afterNote = h.slack.thread(ONCALL, alert.ts).filter((m) => Number(m.ts) > Number(note.ts));
      expect(afterNote.map((m) => m.text).filter((t) => /Again|more occurrences/.test(t))).toEqual([]);
    });
  });
});
