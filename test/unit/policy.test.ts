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

  it('describes the allowance', () => {
    expect(describeAllowance(config, 'C0OPS', verbs)).toContain('`beta`, `prod`');
  });
});
