import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { useHarness } from '../support/use-harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { COMMAND_QUEUE, signCommandJob, type CommandJobData } from '../../src/queue/commands.js';
import { Signer } from '../../src/security/signing.js';

const CONFIG = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
  prod:
    cluster: default
    namespace: prod
    approval: { approvers: [U0OPSLEAD], minApprovals: 1, timeout: 30m }
apps:
  myapp:
    image: registry.example.com/team/myapp
    replicas: 1
    progressDeadlineSeconds: 5
channels:
  C0OPS: { environments: ["*"], commands: ["*"] }
`;

const h = useHarness({ name: 'signing', config: CONFIG });
let redis: Redis;
let queue: Queue<CommandJobData>;
let events: QueueEvents;
let since = 0;
beforeAll(async () => {
  // What "anyone who can reach Redis" has: a plain connection and BullMQ.
  redis = new Redis(TEST_REDIS_URL);
  queue = new Queue<CommandJobData>(COMMAND_QUEUE, { connection: redis, prefix: h.prefix });
  events = new QueueEvents(COMMAND_QUEUE, { connection: new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null }), prefix: h.prefix });
  await events.waitUntilReady();
});
afterAll(async () => {
  await events?.close();
  await queue?.close();
  redis?.disconnect();
});
beforeEach(() => {
  since = h.mark();
});

const forgedRequest = (id: string) => ({
  requestId: id,
  text: 'deploy myapp prod 6.6.6',
  userId: 'U0OPSLEAD',
  channelId: 'C0OPS',
  receivedAt: Date.now(),
});
const audited = async (ref: string) => (await h.chatops.services.audit.recent({ limit: 50 })).filter((e) => e.ref === ref);

describe('records in Redis are signed', () => {
  it('refuses and audits a deploy "from the ops channel" added straight to Redis, and runs nothing', async () => {
    const data: CommandJobData = {
      verb: 'deploy',
      args: { app: 'myapp', env: 'prod', version: '6.6.6' },
      request: forgedRequest('forged1'),
      approvalId: 'apr-forged1forged1',
    };
    const job = await queue.add('deploy', data, { jobId: 'cmd-forged1' });
    await expect(job.waitUntilFinished(events, 15_000)).rejects.toThrow(/signature verification/);
    // Signed with some other key: just as forged.
    const other = new Signer({ current: 'an-attackers-guess-0123456789abcdef012345' });
    const job2 = await queue.add('deploy', signCommandJob(other, { ...data, request: forgedRequest('forged2') }, 'cmd-forged2'), {
      jobId: 'cmd-forged2',
    });
    await expect(job2.waitUntilFinished(events, 15_000)).rejects.toThrow(/signature verification/);

    for (const ref of ['cmd-forged1', 'cmd-forged2']) {
      const entries = await audited(ref);
      expect(entries.map((e) => e.outcome)).toEqual(['refused_tampered']);
      expect(entries[0]).toMatchObject({ verb: 'deploy', userId: 'U0OPSLEAD', channelId: 'C0OPS' });
    }
    expect(h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp')).toBeUndefined();
    expect(h.slack.calls.filter((c) => c.seq > since && JSON.stringify(c.args).includes('6.6.6'))).toEqual([]);
  });

  it('refuses an approval record edited in Redis: the click is refused and audited, nothing runs', async () => {
    const ack = await h.command('deploy myapp prod 2.0.0', { channel: 'C0OPS', user: 'U0DEV' });
    expect(ack.json.text).toContain('needs approval');
    const request = await h.waitForApproval({ since });
    const id = request.value;

    // Someone with Redis access swaps the version the approver saw for another one.
    const key = `${h.prefix}:chatops:approval:${id}`;
    const data = await redis.hget(key, 'data');
    expect(data).toContain('2.0.0');
    await redis.hset(key, 'data', data!.replaceAll('2.0.0', '6.6.6'));

    expect((await h.clickApproval(request, 'U0OPSLEAD')).text).toMatch(/failed its integrity check.*nothing will run/);
    const entries = await audited(id);
    expect(entries.map((e) => e.outcome)).toContain('refused_tampered');
    expect(entries.map((e) => e.outcome)).not.toContain('approved');
    expect(h.kube.get('apps/v1', 'Deployment', 'prod', 'myapp')).toBeUndefined();
  });

  it('refuses a button intent edited in Redis', async () => {
    const intentId = await h.chatops.services.intents.create({ text: 'status myapp beta', channelId: 'C0OPS' });
    const key = `${h.prefix}:chatops:intent:${intentId}`;
    await redis.set(key, (await redis.get(key))!.replace('status myapp beta', 'scale myapp prod 0'));
    const responseUrl = h.slack.newResponseUrl();
    await h.click({
      user_id: 'U0DEV',
      channel_id: 'C0OPS',
      message_ts: '1.1',
      action_id: 'chatops_run',
      value: intentId,
      response_url: responseUrl,
    });
    const answer = await h.answer(responseUrl);
    expect(answer.body.text).toMatch(/expired/);
    expect((await audited(intentId)).map((e) => e.outcome)).toEqual(['refused_tampered']);
  });
});

describe('response_url', () => {
  let inside: Server;
  let hits = 0;
  beforeAll(async () => {
    // An address "inside the cluster" the bot must never be made to POST to.
    inside = createServer((req, res) => {
      hits++;
      res.end('ok');
    }).listen(0, '127.0.0.1');
    await once(inside, 'listening');
  });
  afterAll(() => inside?.close());

  it("is used only on Slack's hooks host or the configured API host: elsewhere the reply goes through the Web API", async () => {
    const url = `http://127.0.0.1:${(inside.address() as { port: number }).port}/commands/T0/1/evil`;
    const { postSlashCommand } = await import('../support/slack/index.js');
    const { SIGNING_SECRET } = await import('../support/harness.js');
    const res = await postSlashCommand(h.eventsUrl, SIGNING_SECRET, {
      text: 'status myapp beta',
      channel_id: 'C0OPS',
      user_id: 'U0DEV',
      response_url: url,
    });
    expect(res.status).toBe(200);
    // The worker's answer arrives as an ephemeral message instead.
    await h.slack.waitForCall((c) => c.seq > since && c.method === 'chat.postEphemeral' && c.args.user === 'U0DEV', 15_000);
    expect(hits).toBe(0);
  });
});
