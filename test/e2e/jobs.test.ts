import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_CONFIG } from '../support/harness.js';
import { useHarness } from '../support/use-harness.js';

/** The usual e2e config, prod behind an approval, and a dev channel that may see and cancel its own work. */
const CONFIG = (kubeconfig: string) =>
  E2E_CONFIG(kubeconfig)
    .replace(
      'prod: { cluster: default, namespace: prod, promoteFrom: beta }',
      'prod: { cluster: default, namespace: prod, approval: { approvers: [U0OPSLEAD], timeout: 30m } }',
    )
    .replace('channels:\n', 'channels:\n  C0DEVJOBS: { environments: [beta, prod], commands: [deploy, jobs, cancel] }\n');

const IMAGE = 'registry.example.com/team/myapp';
const h = useHarness({ name: 'jobs', config: CONFIG });

const jobIdOf = (ack: any): string => /job `(cmd-[a-f0-9]{24})`/.exec(JSON.stringify(ack.blocks))![1]!;
const shownOf = (ack: any) => `${ack.text}\n${JSON.stringify(ack.blocks ?? [])}`;

let running: string;
let waiting: string;
let waitingTs: string;

beforeAll(async () => {
  // With the controller paused, the first deploy's rollout never progresses: it runs (holding the lock) until resumed.
  h.kube.pauseController();
  const first = await h.command('deploy myapp beta 1.0.0', { channel: 'C0OPS', user: 'U0OPS' });
  running = jobIdOf(first.json);
  await h.slack.waitForCall((c) => c.method === 'chat.postMessage' && /^:rocket: deploy myapp 1\.0\.0 → beta/.test(c.args.text), 10_000);
  const second = await h.command('deploy myapp beta 2.0.0', { channel: 'C0DEVJOBS', user: 'U0DEVA' });
  waiting = jobIdOf(second.json);
  const wait = await h.slack.waitForCall(
    (c) =>
      c.method === 'chat.postMessage' && c.args.channel === 'C0DEVJOBS' && /deploy myapp 2\.0\.0 → beta.*waiting for/.test(c.args.text),
    10_000,
  );
  waitingTs = wait.response.ts;
}, 30_000);
afterAll(() => {
  h.kube.resumeController();
});

describe('/k8s jobs', () => {
  it("shows an ops channel everyone's running and waiting work, with who, where and when", async () => {
    const res = await h.command('jobs', { channel: 'C0OPS' });
    expect(res.json.response_type).toBe('ephemeral');
    expect(res.json.text).toBe('2 pieces of work in every channel: 1 running, 1 waiting for lock');
    const shown = shownOf(res.json);
    expect(shown).toMatch(
      new RegExp(`:gear: \\*deploy myapp 1\\.0\\.0 → beta\\* — running for \\S+ · <@U0OPS> in <#C0OPS> · asked \\S+ ago · \`${running}\``),
    );
    expect(shown).toMatch(
      new RegExp(
        `:hourglass: \\*deploy myapp 2\\.0\\.0 → beta\\* — waiting for lock · <@U0DEVA> in <#C0DEVJOBS> · asked \\S+ ago · \`${waiting}\``,
      ),
    );
  });

  it('shows another channel only its own work', async () => {
    const res = await h.command('jobs', { channel: 'C0DEVJOBS', user: 'U0DEVB' });
    expect(res.json.text).toBe('1 piece of work from <#C0DEVJOBS>: 1 waiting for lock');
    expect(shownOf(res.json)).not.toContain(running);
  });

  it('refuses a channel that may not list jobs', async () => {
    const res = await h.command('jobs', { channel: 'C0DEVTEAM' });
    expect(res.json.text).toMatch(/:no_entry: This channel may not use `jobs`/);
  });
});

describe('/k8s cancel', () => {
  it("refuses someone else's job outside an ops channel", async () => {
    const res = await h.command(`cancel ${waiting}`, { channel: 'C0DEVJOBS', user: 'U0DEVB' });
    expect(res.json.text).toBe(':no_entry: Only <@U0DEVA>, who asked for it, or an ops channel (one allowed every command) may cancel it.');
    expect(await h.chatops.queue.getJob(waiting)).toBeDefined();
  });

  it('says plainly that a running change cannot be stopped, and how to undo it after', async () => {
    const res = await h.command(`cancel ${running}`, { channel: 'C0OPS', user: 'U0OPS' });
    expect(res.json.text).toMatch(
      new RegExp(
        `^:gear: \`deploy myapp 1\\.0\\.0 → beta\` \\(job \`${running}\`, asked by <@U0OPS>\\) is already running for \\S+ and cannot be cancelled\\.`,
      ),
    );
    expect(res.json.text).toContain('A change is not stopped half-way');
    expect(res.json.text).toContain('To undo it afterwards: `/k8s rollback myapp beta`');
    expect(await h.chatops.queue.getJob(running).then((j) => j?.getState())).toBe('active');
  });

  it('lists a change cut off by a stopping worker as resuming; cancel says it cannot be cancelled and leaves it and its target taken', async () => {
    // What a worker stopping mid-change leaves behind (the worker's handOver): the job delayed, its target's lock still its own.
    const { queue, locks, jobs } = h.chatops.services;
    const model = (await jobs.get(waiting))!;
    const id = 'cmd-0123456789abcdef01234567';
    const data = { ...model.data, args: { ...(model.data.args as Record<string, unknown>), env: 'prod' } };
    await queue.add(model.name, data, { jobId: id, delay: 600_000 });
    const taken = await locks.acquire('prod', 'myapp', {
      jobId: id,
      userId: 'U0DEVA',
      description: 'deploy myapp 2.0.0 → prod',
      since: Date.now(),
    });
    if (!taken.acquired) throw new Error('prod/myapp is taken');
    await taken.handOver();
    try {
      const list = await h.command('jobs', { channel: 'C0OPS' });
      expect(list.json.text).toBe('3 pieces of work in every channel: 1 running, 1 resuming, 1 waiting for lock');
      expect(shownOf(list.json)).toMatch(
        new RegExp(
          `:arrows_counterclockwise: \\*deploy myapp 2\\.0\\.0 → prod\\* — started \\S+ ago, cut off by a worker stopping: resumes when a worker runs · <@U0DEVA> in <#C0DEVJOBS> · asked \\S+ ago · \`${id}\``,
        ),
      );
      const res = await h.command(`cancel ${id}`, { channel: 'C0DEVJOBS', user: 'U0DEVA' });
      expect(res.json.text).toMatch(
        new RegExp(
          `^:gear: \`deploy myapp 2\\.0\\.0 → prod\` \\(job \`${id}\`, asked by <@U0DEVA>\\) started( \\S+ ago)?, was cut off by a worker stopping and resumes where it was as soon as a worker runs, and cannot be cancelled\\.`,
        ),
      );
      expect(await queue.getJobState(id)).toBe('delayed');
      expect((await locks.holder('prod', 'myapp'))?.jobId).toBe(id);
    } finally {
      await queue.remove(id);
      await taken.release();
    }
  });

  it("cancels the requester's waiting job: it never runs, its message says so, and it is audited", async () => {
    const since = h.mark();
    const res = await h.command(`cancel ${waiting}`, { channel: 'C0DEVJOBS', user: 'U0DEVA' });
    expect(res.json.response_type).toBe('ephemeral');
    expect(res.json.text).toBe(
      `:heavy_multiplication_x: Cancelled \`deploy myapp 2.0.0 → beta\` (job \`${waiting}\`, requested by <@U0DEVA>); it will not run. Nothing was changed.`,
    );
    expect(await h.chatops.queue.getJob(waiting)).toBeUndefined();
    const update = await h.slack.waitForCall((c) => c.seq > since && c.method === 'chat.update' && c.args.ts === waitingTs, 5_000);
    expect(update.args.channel).toBe('C0DEVJOBS');
    expect(update.args.text).toBe(
      ':heavy_multiplication_x: ~deploy myapp 2.0.0 → beta~ — cancelled by the requester before it ran (requested by <@U0DEVA>)',
    );
    const [entry] = await h.chatops.services.audit.recent({ verb: 'deploy', app: 'myapp', env: 'beta' });
    expect(entry).toMatchObject({ outcome: 'cancelled', ref: waiting, userId: 'U0DEVA', channelId: 'C0DEVJOBS' });

    // The running deploy finishes; the cancelled one never starts.
    h.kube.resumeController();
    await h.slack.waitForCall((c) => c.method === 'chat.update' && /deploy myapp 1\.0\.0 → beta — (done|failed)/.test(c.args.text), 15_000);
    expect(h.kube.get('apps/v1', 'Deployment', 'beta', 'myapp').spec.template.spec.containers[0].image).toBe(`${IMAGE}:1.0.0`);
    await expect
      .poll(() => h.chatops.queue.getJobCounts('waiting', 'delayed', 'active'), { timeout: 5_000 })
      .toEqual({ waiting: 0, delayed: 0, active: 0 });
    expect(h.kube.get('apps/v1', 'Deployment', 'beta', 'myapp').spec.template.spec.containers[0].image).toBe(`${IMAGE}:1.0.0`);
  });

  it('says a finished job has nothing left to cancel', async () => {
    const res = await h.command(`cancel ${running}`, { channel: 'C0OPS' });
    expect(res.json.text).toMatch(
      new RegExp(`^Job \`${running}\` \\(\`deploy myapp 1\\.0\\.0 → beta\`\\) already (finished|failed); there is nothing to cancel\\.`),
    );
  });

  it('cancels a request waiting for approval, and the approval message says so', async () => {
    const since = h.mark();
    const ack = await h.command('deploy myapp prod 1.0.0', { channel: 'C0DEVJOBS', user: 'U0DEVA' });
    expect(ack.json.text).toContain('needs approval');
    const request = await h.slack.waitForCall(
      (c) => c.seq > since && c.method === 'chat.postMessage' && /Approval needed/.test(c.args.text),
      10_000,
    );
    // The job that posted the request ends right after; then only the request is left.
    await expect.poll(() => h.chatops.queue.getJobCounts('active'), { timeout: 5_000 }).toEqual({ active: 0 });
    const listed = await h.command('jobs', { channel: 'C0OPS' });
    const id = /`(apr-[A-Za-z0-9_-]+)`/.exec(JSON.stringify(listed.json.blocks))?.[1];
    expect(listed.json.text).toBe('1 piece of work in every channel: 1 waiting for approval');
    expect(shownOf(listed.json)).toMatch(
      /:raised_hand: \*deploy myapp 1\.0\.0 → prod\* — waiting for approval · <@U0DEVA> in <#C0DEVJOBS> · asked \S+ ago · 0 of 1 approval, expires in (30m|29m\d*s) · `apr-/,
    );

    const res = await h.command(`cancel ${id}`, { channel: 'C0OPS', user: 'U0OPS' });
    expect(res.json.response_type).toBe('in_channel');
    expect(res.json.text).toBe(
      `:heavy_multiplication_x: Cancelled the request \`${id}\` (\`deploy myapp 1.0.0 → prod\`, asked by <@U0DEVA>); it will not run and nothing was changed.`,
    );
    const updated = await h.slack.waitForCall(
      (c) => c.seq > since && c.method === 'chat.update' && c.args.ts === request.response.ts,
      5_000,
    );
    expect(updated.args.text).toMatch(/Cancelled by <@U0OPS>/);
    expect((await h.chatops.services.approvals.get(id!))?.state).toBe('cancelled');
    const again = await h.command(`cancel ${id}`, { channel: 'C0OPS' });
    expect(again.json.text).toContain('is already cancelled; there is nothing to cancel.');
  });

  it.each([
    ['cancel', /Missing `&lt;job&gt;`/],
    ['cancel 12345', /job must be an id as `\/k8s jobs` shows it/],
    ['cancel cmd-../../x', /job must be an id/],
  ])('answers bad input %# with its reason and usage', async (text, reason) => {
    const res = await h.command(text, { channel: 'C0OPS' });
    expect(res.json.text).toMatch(reason);
    expect(res.json.text).toContain('Usage: `/k8s cancel &lt;job&gt;`');
  });

  it('says plainly when there is no such job', async () => {
    const res = await h.command(`cancel cmd-${'0'.repeat(24)}`, { channel: 'C0OPS' });
    expect(res.json.text).toBe(
      `:warning: There is no job \`cmd-${'0'.repeat(24)}\`. \`/k8s jobs\` lists the queued and running ones; finished jobs are forgotten after a day.`,
    );
  });

  it('shows an empty queue plainly', async () => {
    const res = await h.command('jobs', { channel: 'C0DEVJOBS' });
    expect(res.json.text).toBe('No queued, waiting or running work from <#C0DEVJOBS>.');
  });
});
