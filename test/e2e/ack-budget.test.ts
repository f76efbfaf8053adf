/**
 * The ack waits for parse, policy and enqueue only, within a budget well under
 * Slack's 3 s, however slow Slack's usergroups.users.list or Redis are. A private
 * Redis, so that pausing it (CLIENT PAUSE) slows no one else.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_CONFIG } from '../support/harness.js';
import { useHarness } from '../support/use-harness.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis-server.js';

const CONFIG = (kubeconfig: string) =>
  E2E_CONFIG(kubeconfig).replace(
    'channels:\n',
    'channels:\n  C0GATED: { environments: [beta], commands: ["*"], members: [S0EMPTY, S0QUIET, S0TEAM] }\n  C0OTHER: { environments: [beta], commands: ["*"], members: [S0NOBODY, S0CREW] }\n',
  );

let redis: PrivateRedis;
let admin: Redis;
beforeAll(async () => {
  redis = await startPrivateRedis();
});
afterAll(async () => {
  await redis?.stop();
});
const h = useHarness(() => ({ name: 'ack-budget', redisUrl: redis.url, config: CONFIG }));
beforeAll(() => {
  admin = new Redis(redis.url);
  h.slack.userGroups.set('S0EMPTY', []);
  h.slack.userGroups.set('S0QUIET', []);
  h.slack.userGroups.set('S0TEAM', ['U0MEMBER']);
  h.slack.userGroups.set('S0NOBODY', []);
  h.slack.userGroups.set('S0CREW', ['U0CREW']);
});
afterAll(() => {
  admin?.disconnect();
});

describe('the ack', () => {
  it('looks the channel’s user groups up at once, not one after the other, when Slack is slow', async () => {
    h.slack.setLatency('usergroups.users.list', 1_000);
    try {
      const ack = await h.command('deploy myapp beta 1.0.0', { channel: 'C0GATED', user: 'U0MEMBER' });
      expect(ack.json.text).toContain('Queued');
      // Three groups looked up one after the other took 3 s before the enqueue even began.
      expect(ack.ms).toBeLessThan(2_500);
    } finally {
      h.slack.setLatency('usergroups.users.list', null);
    }
  });

  it('answers within the budget when Slack and Redis are both slow, and says nothing was queued', async () => {
    h.slack.setLatency('usergroups.users.list', 1_000);
    // Redis answers no write for 4 s (as under a failover or a long fork).
    await admin.call('CLIENT', 'PAUSE', '4000', 'WRITE');
    try {
      const ack = await h.command('deploy myapp beta 1.0.1', { channel: 'C0OTHER', user: 'U0CREW' });
      // Membership (1 s) then an enqueue bounded by what is left: an answer well before Slack's 3 s.
      expect(ack.ms).toBeLessThan(2_700);
      expect(ack.json.text).toContain('not* queued');
    } finally {
      await admin.call('CLIENT', 'UNPAUSE');
      h.slack.setLatency('usergroups.users.list', null);
    }
  });
});
