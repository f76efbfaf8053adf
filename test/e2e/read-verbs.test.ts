import { beforeAll, describe, expect, it } from 'vitest';
import { E2E_CONFIG } from '../support/harness.js';
import { useHarness } from '../support/use-harness.js';

/** The usual e2e config plus a dev channel that may use the read verbs (and not label). */
const CONFIG = (kubeconfig: string) =>
  E2E_CONFIG(kubeconfig).replace(
    'channels:\n',
    'channels:\n  C0DEVREAD: { environments: [beta], commands: [logs, history, pods, nodes] }\n',
  );

const IMAGE = 'registry.example.com/team/myapp';
const h = useHarness({ name: 'read-verbs', config: CONFIG });

/** Workload calls (the start-up permission check's access reviews don't count). */
const kubeCalls = () => h.kube.requests.filter((r) => !r.path.includes('selfsubjectaccessreviews')).length;
const myappPods = () => h.kube.list('v1', 'Pod', 'beta').filter((p) => p.metadata.labels?.['app.kubernetes.io/name'] === 'myapp');

/** Runs a command and returns what the worker answered on its response_url (the post after the ack). */
async function answer(text: string, opts: { channel?: string; user?: string } = {}): Promise<{ ack: any; body: any; shown: string }> {
  const res = await h.command(text, { channel: opts.channel ?? 'C0OPS', user: opts.user ?? 'U0OPS' });
  const post = await h.answer(res.responseUrl);
  return { ack: res.json, body: post.body, shown: `${post.body.text}\n${JSON.stringify(post.body.blocks ?? [])}` };
}

beforeAll(async () => {
  await h.deployAndWait('myapp', 'beta', '1.0.0', { channel: 'C0OPS', user: 'U0ALICE' });
  await h.deployAndWait('myapp', 'beta', '1.1.0', { channel: 'C0DEVTEAM', user: 'U0BOB' });
  // Settle on the two pods of 1.1.0, so every test sees the same pods.
  await h.kube.waitFor(
    () => {
      const pods = myappPods();
      return (
        pods.length === 2 &&
        pods.every((p) => p.spec.containers[0].image === `${IMAGE}:1.1.0` && p.status?.phase === 'Running' && !p.metadata.deletionTimestamp)
      );
    },
    10_000,
    'two running pods of 1.1.0',
  );
}, 30_000);

describe('/k8s logs', () => {
  it('shows short logs inline as code, every line labelled by pod and container', async () => {
    const { ack, body, shown } = await answer('logs myapp beta');
    expect(ack.text).toContain('logs of myapp in beta');
    const names = myappPods()
      .map((p) => p.metadata.name)
      .sort();
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain('Logs of myapp in beta (last 100 lines per container, 2 pods)');
    for (const pod of names) expect(shown).toContain(`[${pod}/myapp] ready to serve requests`);
    expect(shown).toContain('```');
    expect(h.slack.uploads).toHaveLength(0);
    const logCalls = h.kube.requests.filter((r) => r.path.endsWith('/log'));
    expect(logCalls.length).toBe(2);
    expect(logCalls[0]?.query.tailLines).toBe('100');
  });

  it('uploads long output as a file to the channel and says where it is', async () => {
    const [pod] = myappPods()
      .map((p) => p.metadata.name)
      .sort();
    h.kube.appendLogs(
      'beta',
      pod,
      Array.from({ length: 60 }, (_, i) => `request ${i} served <@U0EVERYONE> & done`),
    );
    const { body } = await answer('logs myapp beta --lines 200');
    expect(body.text).toMatch(/^:page_facing_up: 68 log lines of myapp in beta are in this channel as `logs-myapp-beta-\d{8}T\d{6}Z\.txt`/);
    const upload = h.slack.uploads.at(-1)!;
    expect(upload.channel).toBe('C0OPS');
    expect(upload.filename).toMatch(/^logs-myapp-beta-.*\.txt$/);
    expect(upload.title).toBe('Logs of myapp in beta (last 200 lines per container, 2 pods)');
    expect(upload.initialComment).toContain('68 lines, for <@U0OPS>');
    const text = upload.bytes.toString('utf8');
    // The file holds the log text exactly as the pods wrote it, labelled.
    expect(text).toContain(`[${pod}/myapp] request 59 served <@U0EVERYONE> & done\n`);
    expect(text.split('\n').filter(Boolean)).toHaveLength(68);
  });

  it('asks the API for only the lines wanted, and reads one pod with --pod', async () => {
    const [, second] = myappPods()
      .map((p) => p.metadata.name)
      .sort();
    const before = h.kube.requests.length;
    const { shown } = await answer(`logs myapp beta --pod ${second} --lines 2`);
    const logCalls = h.kube.requests.slice(before).filter((r) => r.path.endsWith('/log'));
    expect(logCalls.map((r) => [r.path.split('/').at(-2), r.query.tailLines])).toEqual([[second, '2']]);
    expect(shown).toContain(`[${second}/myapp] listening on :8080`);
    expect(shown).toContain(`[${second}/myapp] ready to serve requests`);
    expect(shown).not.toContain('starting app');
  });

  it("refuses a --pod that is not one of the app's pods, whatever its name", async () => {
    h.kube.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'payroll-db-0', namespace: 'beta', labels: { 'app.kubernetes.io/name': 'payroll' } },
      spec: { containers: [{ name: 'db', image: 'postgres:16' }] },
    });
    const before = h.kube.requests.length;
    const { body } = await answer('logs myapp beta --pod payroll-db-0');
    expect(body.text).toMatch(/:warning: Pod `payroll-db-0` is not a pod of myapp in namespace beta\. Its pods: `myapp-/);
    expect(h.kube.requests.slice(before).some((r) => r.path.endsWith('/log'))).toBe(false);
  });

  it('says there is no previous container for a pod that never restarted, and shows it once it has', async () => {
    const [pod] = myappPods()
      .map((p) => p.metadata.name)
      .sort();
    const none = await answer(`logs myapp beta --pod ${pod} --previous`);
    expect(none.body.text).toBe(`:warning: No previous container for pod ${pod}: it has not restarted.`);

    h.kube.appendLogs('beta', pod, ['allocating the whole heap']);
    h.kube.oomKill('beta', pod);
    await h.kube.waitFor(
      () => {
        const status = h.kube.get('v1', 'Pod', 'beta', pod)?.status?.containerStatuses?.[0];
        return status?.restartCount >= 1 && status.state?.running;
      },
      10_000,
      'the container to restart',
    );
    const after = await answer(`logs myapp beta --pod ${pod} --previous --lines 3`);
    expect(after.body.text).toContain('previous containers, last 3 lines per container, 1 pod');
    expect(after.shown).toContain(`[${pod}/myapp] allocating the whole heap`);
  });

  it('shows the end of the logs inline with how to invite the bot when it may not post the file', async () => {
    const [pod] = myappPods()
      .map((p) => p.metadata.name)
      .sort();
    h.kube.appendLogs(
      'beta',
      pod,
      Array.from({ length: 60 }, (_, i) => `line ${i}`),
    );
    h.slack.setBotNotInChannel('C0OPS');
    try {
      const { body } = await answer('logs myapp beta --lines 200');
      expect(body.text).toContain('/invite @k8s-chatops');
      expect(body.text).toMatch(/Last 40 of \d+ lines/);
      expect(body.text).toContain(`[${pod}/myapp] line 59`);
      expect(h.slack.uploads.filter((u) => u.channel === 'C0OPS')).toHaveLength(1); // only the earlier one
      expect(JSON.stringify(body.blocks)).toContain('```');
    } finally {
      h.slack.setBotNotInChannel('C0OPS', false);
    }
  });

  it('says plainly when the app has no pods in the environment', async () => {
    const { body } = await answer('logs myapp prod');
    expect(body.text).toBe(':warning: No pods of myapp in namespace prod — has it been deployed? Try `/k8s status myapp &lt;env&gt;`.');
  });

  it.each([
    ['logs myapp beta --lines 0', /lines is at least 1/],
    ['logs myapp beta --lines 5001', /lines is at most 5,000/],
    ['logs myapp beta --lines lots', /lines must be a whole number/],
    ['logs myapp beta --follow 11m', /follow lasts from `5s` to `10m`/],
    ['logs myapp beta --tail', /Unknown option `--tail`/],
    ['logs myapp beta --pod ../../etc', /pod must be a pod name/],
    ['logs myapp', /Missing `&lt;env&gt;`/],
  ])('answers bad input %# with its reason and usage, and calls nothing', async (text, reason) => {
    const before = kubeCalls();
    const res = await h.command(text, { channel: 'C0OPS' });
    expect(res.json.text).toMatch(reason);
    expect(res.json.text).toContain(
      'Usage: `/k8s logs &lt;app&gt; &lt;env&gt; [--lines N] [--since D] [--grep P] [--follow [D]] [--previous] [--pod P] [--container C]`',
    );
    expect(kubeCalls()).toBe(before);
  });

  it('refuses a channel that may not read logs, and says what it may do', async () => {
    const before = kubeCalls();
    const res = await h.command('logs myapp beta', { channel: 'C0DEVTEAM' });
    expect(res.json.text).toMatch(/:no_entry: This channel may not use `logs`\. This channel may run `deploy`, `status` on `beta`/);
    expect(kubeCalls()).toBe(before);
  });
});

describe('/k8s history', () => {
  it('lists the revisions with image, time, who deployed and from which channel', async () => {
    const { ack, body, shown } = await answer('history myapp beta', { channel: 'C0DEVREAD', user: 'U0CAROL' });
    expect(ack.text).toContain('history of myapp in beta');
    expect(body.text).toBe(`myapp in beta: 2 revisions, current 2 (${IMAGE}:1.1.0)`);
    expect(shown).toMatch(
      new RegExp(
        `\\*2\\* :arrow_left: \\*current\\* · \`${IMAGE}:1\\.1\\.0\` · <!date\\^\\d+\\^[^>]+> \\(\\w+ ago\\) · deploy by <@U0BOB> in <#C0DEVTEAM>`,
      ),
    );
    expect(shown).toMatch(
      new RegExp(`\\*1\\* · \`${IMAGE}:1\\.0\\.0\` · <!date\\^\\d+\\^[^>]+> \\(\\w+ ago\\) · deploy by <@U0ALICE> in <#C0OPS>`),
    );
    expect(shown).toContain('/k8s rollback myapp beta 1');
  });

  it('says plainly when the app was never deployed there', async () => {
    const { body } = await answer('history myapp prod');
    expect(body.text).toBe(':warning: deployment myapp in namespace prod not found — has it been deployed? Try `/k8s deploy myapp prod`.');
  });

  it('refuses an environment the channel may not touch', async () => {
    const res = await h.command('history myapp prod', { channel: 'C0DEVREAD' });
    expect(res.json.text).toMatch(/:no_entry: This channel may not touch `prod`/);
  });
});

describe('/k8s pods', () => {
  it('groups the pods by node with status, restarts and requests', async () => {
    const pods = myappPods();
    const { body, shown } = await answer('pods beta myapp', { channel: 'C0DEVREAD' });
    // One of them was OOM-killed by an earlier test: its status may say so.
    expect(body.text).toMatch(/^2 pods of myapp in beta on [12] node\(s\): \d /);
    for (const p of pods) {
      expect(shown).toContain(`*${p.spec.nodeName}* · `);
      expect(shown).toMatch(new RegExp(`${p.metadata.name} +[A-Za-z() ]+ +\\d+ +100m / 128Mi +\\w+`));
    }
    expect(shown).toMatch(/% of its cpu, \d+% of its memory; node at cpu \d+%, memory \d+%/);
  });

  it('shows every pod of the environment, unscheduled ones apart', async () => {
    const { body, shown } = await answer('pods beta');
    expect(body.text).toMatch(/^3 pods of beta/);
    expect(shown).toContain('payroll-db-0');
  });

  it('says so when an app has no pods there', async () => {
    const { body } = await answer('pods beta nothing-here');
    expect(body.text).toBe('No pods of nothing-here in beta (namespace beta) — has it been deployed?');
  });

  it('refuses a channel that may not list pods', async () => {
    const res = await h.command('pods beta', { channel: 'C0DEVTEAM' });
    expect(res.json.text).toMatch(/:no_entry: This channel may not use `pods`/);
  });
});

describe('/k8s nodes', () => {
  beforeAll(() => {
    // A tainted GPU node with a pod of another namespace on it: requests count in every namespace.
    h.kube.addNode('gpu-1', {
      cpu: '8',
      memory: '16Gi',
      labels: { pool: 'gpu' },
      taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }],
    });
    h.kube.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'trainer', namespace: 'default' },
      spec: {
        nodeName: 'gpu-1',
        containers: [{ name: 'train', image: 'trainer:1', resources: { requests: { cpu: '2', memory: '4Gi' } } }],
      },
    });
  });

  it("shows each node's requested vs allocatable cpu and memory, pods and key labels", async () => {
    const { ack, body, shown } = await answer('nodes', { channel: 'C0DEVREAD' });
    expect(ack.text).toContain(':hourglass_flowing_sand: nodes…');
    expect(body.text).toMatch(/^4 nodes, most requested gpu-1 \(cpu 25%, memory 25%\)$/);
    expect(shown).toMatch(/gpu-1 +Ready +2\/8 \(25%\) +4Gi\/16Gi \(25%\) +1\/110 +zone-a emulated-8c-16gi pool=gpu/);
    expect(shown).toMatch(/node-1 +Ready +\d+m?\/4 \(\d+%\) +\S+\/8Gi \(\d+%\) +\d+\/110/);
    expect(shown).toContain('`dedicated=gpu:NoSchedule`');
    // Every namespace's pods, as the scheduler counts them.
    expect(
      h.kube.requests.some((r) => r.path === '/api/v1/pods' && String(r.query.fieldSelector).includes('status.phase!=Succeeded')),
    ).toBe(true);
  });

  it('narrows to a label selector', async () => {
    const { body, shown } = await answer('nodes pool in (gpu, tpu)');
    expect(body.text).toBe('1 node, most requested gpu-1 (cpu 25%, memory 25%)');
    expect(shown).not.toContain('node-1');
    expect(h.kube.requests.some((r) => r.path === '/api/v1/nodes' && r.query.labelSelector === 'pool in (gpu, tpu)')).toBe(true);
  });

  it('says when no node matches', async () => {
    const { shown } = await answer('nodes pool=tpu');
    expect(shown).toContain('No node matches `pool=tpu`.');
  });

  it.each([
    ['nodes pool=$(id)', /label value `\$\(id\)`/],
    ['nodes pool=gpu,', /stray comma/],
    ['nodes zone in (a', /unbalanced parentheses/],
    [`nodes ${'a'.repeat(300)}`, /at most 256 characters|at most 63 characters/],
  ])('refuses a bad selector %# before any cluster call', async (text, reason) => {
    const before = kubeCalls();
    const res = await h.command(text, { channel: 'C0OPS' });
    expect(res.json.text).toMatch(reason);
    expect(res.json.text).toContain('Usage: `/k8s nodes [label-selector] [--env E]`');
    expect(kubeCalls()).toBe(before);
  });
});

describe('/k8s label', () => {
  const labelsOf = (name: string) => h.kube.get('v1', 'Node', undefined, name).metadata.labels;

  /** A label change reports like every change: a message in the channel, the details in its thread. */
  async function labelled(text: string, done: RegExp) {
    const since = h.mark();
    const ack = await h.command(text, { channel: 'C0OPS', user: 'U0OPS' });
    const final = await h.waitForFinal(done, { since });
    const thread = h.threadText('C0OPS', final.args.ts);
    return { ack: ack.json, final, thread };
  }

  it('sets labels on a node and shows before → after in the channel', async () => {
    const { ack, final, thread } = await labelled('label gpu-1 team=data tier=batch', /:white_check_mark: label node gpu-1/);
    expect(ack.text).toContain('Queued `label node gpu-1 team=data tier=batch`');
    expect(final.args.text).toMatch(/^:white_check_mark: label node gpu-1: team=data, tier=batch — done in \S+, requested by <@U0OPS>$/);
    expect(thread).toContain('Labels of node `gpu-1`:\n• `team`: _(none)_ → `data`\n• `tier`: _(none)_ → `batch`');
    expect(thread).toContain('undo with `/k8s label gpu-1 team- tier-`');
    expect(labelsOf('gpu-1')).toMatchObject({ team: 'data', tier: 'batch', pool: 'gpu' });
    const patch = h.kube.requests.filter((r) => r.method === 'PATCH' && r.path === '/api/v1/nodes/gpu-1').at(-1);
    expect(patch?.contentType).toContain('application/merge-patch+json');
    // The worker records the outcome right after it reports.
    await expect
      .poll(async () => (await h.chatops.services.audit.recent({ verb: 'label' })).map((e) => e.outcome), { timeout: 5_000 })
      .toEqual(['succeeded', 'accepted']);
  });

  it('refuses to change an existing value without --overwrite, and changes it with', async () => {
    const refused = await answer('label gpu-1 team=web');
    expect(refused.body.text).toBe(':warning: `team` already is `data` on node `gpu-1`. Add `--overwrite` to change it.');
    expect(labelsOf('gpu-1').team).toBe('data');
    const { thread } = await labelled('label gpu-1 team=web --overwrite', /:white_check_mark: label node gpu-1: team=web/);
    expect(thread).toContain('• `team`: `data` → `web`');
    expect(thread).toContain('undo with `/k8s label gpu-1 team=data --overwrite`');
    expect(labelsOf('gpu-1').team).toBe('web');
  });

  it('removes labels with key-, and says when there is nothing to change', async () => {
    const { thread } = await labelled('label gpu-1 tier- missing-', /:white_check_mark: label node gpu-1: tier removed/);
    expect(thread).toContain('• `tier`: `batch` → _(removed)_\n• `missing`: was not set');
    expect(labelsOf('gpu-1').tier).toBeUndefined();
    const nothing = await answer('label gpu-1 missing-');
    expect(nothing.body.text).toBe('Nothing to change: node `gpu-1` already has those labels.');
  });

  it('tells ops how to grant node patching when the bot may not, and changes nothing', async () => {
    h.kube.deny({ verb: 'patch', resource: 'nodes' });
    try {
      const { final, thread } = await labelled('label gpu-1 owner=ml', /:x: /);
      expect(`${final.args.text}\n${thread}`).toContain('ops must grant it with the `components/node-labels` Kustomize component');
      expect(labelsOf('gpu-1').owner).toBeUndefined();
    } finally {
      h.kube.clearDenies();
    }
  });

  it('says plainly when there is no such node', async () => {
    const { body } = await answer('label node-99 pool=x');
    expect(body.text).toBe(':warning: There is no node `node-99`. `/k8s nodes` lists the nodes.');
  });

  it.each([
    ['label gpu-1 kubernetes.io/hostname=evil', /set by the kubelet or the cloud provider/],
    ['label gpu-1 Team=Data=x', /label value `Data=x`/],
    ['label gpu-1 pool', /neither `key=value` nor `key-`/],
    ['label gpu-1', /give at least one `key=value` or `key-`/],
    ['label GPU_1 a=b', /node must be a node name/],
  ])('refuses bad labels %# before any cluster call', async (text, reason) => {
    const before = kubeCalls();
    const res = await h.command(text, { channel: 'C0OPS' });
    expect(res.json.text).toMatch(reason);
    expect(kubeCalls()).toBe(before);
  });

  it('is an admin verb: a channel not allowed it is refused and nothing changes', async () => {
    const before = kubeCalls();
    const res = await h.command('label gpu-1 team=hijack --overwrite', { channel: 'C0DEVREAD' });
    expect(res.json.text).toMatch(/:no_entry: This channel may not use `label`/);
    expect(kubeCalls()).toBe(before);
    expect(labelsOf('gpu-1').team).toBe('web');
  });
});
