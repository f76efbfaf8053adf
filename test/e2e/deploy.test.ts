import { beforeEach, describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';

const h = useHarness({ name: 'deploy' });

const IMAGE = 'registry.example.com/team/myapp';

let since = 0;
beforeEach(() => {
  since = h.mark();
});

const threadText = (ts: string) => h.threadText('C0DEVTEAM', ts);

describe('/k8s deploy', () => {
  it('deploys a version to beta, reports progress in a thread and ends with ✅', async () => {
    // Pods take a moment, so the rollout is still running when the worker starts following it.
    h.kube.setImageBehavior(`${IMAGE}:1.4.2`, { kind: 'slowReady', readyAfterMs: 800 });
    const res = await h.command('deploy myapp beta 1.4.2');
    expect(res.status).toBe(200);
    expect(res.json.response_type).toBe('ephemeral');
    expect(res.json.text).toContain('Queued `deploy myapp 1.4.2 → beta`');

    const top = await h.slack.waitForCall(
      (c) => c.method === 'chat.postMessage' && !c.args.thread_ts && /deploy myapp 1\.4\.2 → beta/.test(c.args.text),
    );
    expect(top.args.text).toContain('requested by <@U0DEV>');
    const done = await h.waitForFinal(/:white_check_mark: deploy myapp 1\.4\.2 → beta — done in/, { since });
    const ts = done.args.ts as string;
    expect(threadText(ts)).toMatch(/applied to beta: created deployment with registry\.example\.com\/team\/myapp:1\.4\.2/);
    // ✅ means done: the thread's milestones (applied, replicas updating) carry neutral markers only.
    expect(threadText(ts)).not.toMatch(/:white_check_mark:|✅|\bcomplete|\bsuccess/i);
    expect(threadText(ts)).toMatch(/^:small_blue_diamond: applied to beta/m);

    const deployment = h.kube.get('apps/v1', 'Deployment', 'beta', 'myapp');
    expect(deployment.spec.template.spec.containers[0].image).toBe(`${IMAGE}:1.4.2`);
    expect(deployment.metadata.annotations['k8s-chatops.io/deployed-by']).toBe('dev');
    expect(h.kube.get('v1', 'ConfigMap', 'beta', 'myapp-config').data).toEqual({ LOG_LEVEL: 'info' });
    expect(h.kube.get('v1', 'Service', 'beta', 'myapp').spec.ports[0].port).toBe(8080);

    // Server-side apply under our own field manager, and the rollout followed with a watch, not polling.
    const applies = h.kube.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/deployments/myapp'));
    expect(applies[0]?.contentType).toContain('application/apply-patch+yaml');
    expect(applies[0]?.query.fieldManager).toBe('k8s-chatops');
    const watches = h.kube.requests.filter(
      (r) => r.path.endsWith('/namespaces/beta/deployments') && ['true', '1'].includes(String(r.query.watch)),
    );
    expect(watches.length).toBeGreaterThanOrEqual(1);
    expect(watches[0]?.query.fieldSelector).toBe('metadata.name=myapp');
  });

  it('restarts the pods when the same tag is deployed again', async () => {
    const before = h.kube.get('apps/v1', 'Deployment', 'beta', 'myapp');
    expect(before.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeUndefined();
    const done = await h.deployAndWait('myapp', 'beta', '1.4.2');
    expect(threadText(done.args.ts)).toContain('redeployed the same image');
    const after = h.kube.get('apps/v1', 'Deployment', 'beta', 'myapp');
    expect(after.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('promotes the version running in promoteFrom when no version is given', async () => {
    await h.deployAndWait('myapp', 'prod', undefined, { channel: 'C0OPS' });
    const prod = h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp');
    expect(prod.spec.template.spec.containers[0].image).toBe(`${IMAGE}:1.4.2`);
    expect(prod.spec.replicas).toBe(3);
  });

  it('explains a failed rollout: ImagePullBackOff names the image', async () => {
    h.kube.setImageBehavior(`${IMAGE}:9.9.9-typo`, { kind: 'imagePullFailure' });
    await h.command('deploy myapp beta 9.9.9-typo');
    const failed = await h.waitForFinal(/:x: deploy myapp 9\.9\.9-typo → beta — failed/, { since });
    const thread = threadText(failed.args.ts);
    expect(thread).toMatch(/ImagePullBackOff|ErrImagePull/);
    expect(thread).toContain(`${IMAGE}:9.9.9-typo`);
    // Warned while waiting, before the deadline ended the rollout.
    const replies = h.slack.thread('C0DEVTEAM', failed.args.ts).map((m) => m.text);
    const warning = replies.findIndex((t) => /:warning: pod `myapp-.*(ImagePullBackOff|ErrImagePull)/.test(t));
    expect(warning).toBeGreaterThanOrEqual(0);
    expect(warning).toBeLessThan(replies.findIndex((t) => /\*Why:\*/.test(t)));
  });

  it('explains a crash loop with the last log lines of the crashed container', async () => {
    h.kube.setImageBehavior(`${IMAGE}:2.0.0-crash`, {
      kind: 'crashLoop',
      exitCode: 1,
      logLines: ['loading config', 'FATAL: DATABASE_URL is not set'],
    });
    await h.command('deploy myapp beta 2.0.0-crash');
    const failed = await h.waitForFinal(/:x: deploy myapp 2\.0\.0-crash → beta — failed/, { since });
    const thread = threadText(failed.args.ts);
    expect(thread).toContain('CrashLoopBackOff');
    expect(thread).toContain('FATAL: DATABASE_URL is not set');
  });

  it("explains an unschedulable pod with the scheduler's message", async () => {
    await h.command('deploy hungry beta 1.0.0');
    const failed = await h.waitForFinal(/:x: deploy hungry 1\.0\.0 → beta — failed/, { since });
    const thread = threadText(failed.args.ts);
    expect(thread).toContain('cannot be scheduled');
    expect(thread).toMatch(/0\/3 nodes are available: 3 Insufficient memory/);
  });

  it('makes one job of a retried Slack request', async () => {
    const first = await h.command('deploy myapp beta 1.5.0', { triggerId: 'trigger-retry-1' });
    const second = await h.command('deploy myapp beta 1.5.0', { triggerId: 'trigger-retry-1' });
    expect(first.json.text).toContain('Queued');
    expect(second.json.text).toContain('Queued');
    await h.waitForFinal(/:white_check_mark: deploy myapp 1\.5\.0 → beta/, { since });
    const tops = h.slack.callsTo('chat.postMessage').filter((c) => !c.args.thread_ts && /deploy myapp 1\.5\.0 → beta/.test(c.args.text));
    expect(tops).toHaveLength(1);
  });
});
