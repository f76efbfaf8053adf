import { describe, expect, it } from 'vitest';
import { checkPolicy, describeAllowance, type MembershipResolver } from '../../src/policy/index.js';
import { config } from './fixtures.js';

const verbs = ['deploy', 'status', 'logs', 'scale', 'help', 'access', 'label'];
const members: MembershipResolver = {
  isMember: async (user, ids) => ids.includes(user) || (ids.includes('S0RELEASERS') && user === 'U0RELEASER'),
};

const request = (channelId: string, verb: string, env?: string, userId = 'U0DEV') => ({
  channelId,
  userId,
  verb,
  verbClass: 'write' as const,
  ...(env ? { env } : {}),
});

describe('per-channel policy', () => {
  it('lets the dev channel deploy to beta', async () => {
    await expect(checkPolicy(config, request('C0DEVTEAM', 'deploy', 'beta'), verbs, members)).resolves.toBeUndefined();
  });

  it('refuses a prod deploy from a beta-only channel and tells what the channel may do', async () => {
    await expect(checkPolicy(config, request('C0DEVTEAM', 'deploy', 'prod'), verbs, members)).rejects.toMatchObject({
      kind: 'denied',
      userMessage: expect.stringMatching(/may not touch `prod`[\s\S]*may run `deploy`, `status`[\s\S]*on `beta`/),
    });
  });

  it('refuses a verb outside the binding', async () => {
    await expect(checkPolicy(config, request('C0DEVTEAM', 'label'), verbs, members)).rejects.toMatchObject({
      userMessage: expect.stringContaining('may not use `label`'),
    });
  });

  it('lets a channel that is not listed do nothing but help and access', async () => {
    await expect(checkPolicy(config, request('C0RANDOM', 'status', 'beta'), verbs, members)).rejects.toMatchObject({
      userMessage: expect.stringContaining('not bound'),
    });
    await expect(checkPolicy(config, request('C0RANDOM', 'help'), verbs, members)).resolves.toBeUndefined();
  });

  it('gives "*" every environment and verb', async () => {
    await expect(checkPolicy(config, request('C0OPS', 'label'), verbs, members)).resolves.toBeUndefined();
    await expect(checkPolicy(config, request('C0OPS', 'deploy', 'prod'), verbs, members)).resolves.toBeUndefined();
  });

  it('limits a binding with members to those users and groups', async () => {
    await expect(checkPolicy(config, request('C0RELEASE', 'deploy', 'prod', 'U0DEV'), verbs, members)).rejects.toMatchObject({
      userMessage: expect.stringContaining('not one of the people'),
    });
    await expect(checkPolicy(config, request('C0RELEASE', 'deploy', 'prod', 'U0RELEASER'), verbs, members)).resolves.toBeUndefined();
  });

  it('refuses an unknown environment', async () => {
    await expect(checkPolicy(config, request('C0OPS', 'deploy', 'staging'), verbs, members)).rejects.toMatchObject({
      userMessage: expect.stringContaining('no environment `staging`'),
    });
  });

  it('without a verb (an alert button such as Silence) needs only the binding to the environment, and names the action when it refuses', async () => {
    const silence = (channelId: string, env: string, userId = 'U0DEV') => ({
      channelId,
      userId,
      verbClass: 'write' as const,
      action: 'silence its alerts',
      env,
    });
    await expect(checkPolicy(config, silence('C0DEVTEAM', 'beta'), verbs, members)).resolves.toBeUndefined();
    await expect(checkPolicy(config, silence('C0DEVTEAM', 'prod'), verbs, members)).rejects.toMatchObject({
      kind: 'denied',
      userMessage: expect.stringMatching(
        /^This channel may not touch `prod`, so it may not silence its alerts; ask ops to bind it to `prod`\. /,
      ),
    });
    await expect(checkPolicy(config, silence('C0RELEASE', 'prod'), verbs, members)).rejects.toMatchObject({
      userMessage: expect.stringMatching(
        /^You are not one of the people allowed to use this channel's binding, so you may not silence its alerts\. /,
      ),
    });
    await expect(checkPolicy(config, silence('C0RANDOM', 'beta'), verbs, members)).rejects.toMatchObject({
      userMessage: expect.stringContaining('not bound'),
    });
  });

  it('describes the allowance', () => {
    expect(describeAllowance(config, 'C0OPS', verbs)).toContain('`beta`, `prod`');
  });
});
