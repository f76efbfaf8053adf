import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebClient } from '@slack/web-api';
import { SlackMembership } from '../../src/slack/usergroups.js';
import { startSlackEmulator, type SlackEmulator } from '../support/slack/index.js';

let slack: SlackEmulator;
beforeAll(async () => {
  slack = await startSlackEmulator({ botToken: 'xoxb-test' });
  slack.userGroups.set('S0APPROVERS', ['U0ALICE']);
});
afterAll(async () => {
  await slack?.close();
});

describe('approver group membership has a maximum staleness', () => {
  it('answers from a set fetched within 5 minutes while Slack fails, and denies once it is older', async () => {
    let now = 1_000_000;
    const client = new WebClient('xoxb-test', { slackApiUrl: slack.url, retryConfig: { retries: 0 } });
    const members = new SlackMembership(client, 60_000, () => now);
    expect(await members.isMember('U0ALICE', ['S0APPROVERS'])).toBe(true);

    // Past the cache's minute, Slack fails: a set 4 minutes old still answers.
    now += 4 * 60_000;
    slack.failNext('usergroups.users.list', { error: 'fatal_error' });
    expect(await members.isMember('U0ALICE', ['S0APPROVERS'])).toBe(true);

    // Slack fails again with the set over 5 minutes old: no more trusting it.
    now += 90_000;
    slack.failNext('usergroups.users.list', { error: 'fatal_error' });
    await expect(members.isMember('U0ALICE', ['S0APPROVERS'])).rejects.toMatchObject({
      kind: 'denied',
      userMessage: expect.stringContaining('over 5 minutes old'),
    });

    // Slack answers again: Alice was removed meanwhile, and that is what counts.
    slack.userGroups.set('S0APPROVERS', ['U0BOB']);
    expect(await members.isMember('U0ALICE', ['S0APPROVERS'])).toBe(false);
  });
});
