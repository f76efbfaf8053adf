import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { appOf, channelOf, clusterOf, environmentOf } from '../../src/config/lookup.js';
import { checkPolicy, type MembershipResolver } from '../../src/policy/index.js';
import { approvalRuleFor } from '../../src/approvals/policy.js';
import { appForEnvironment } from '../../src/kube/render.js';
import { Clusters } from '../../src/kube/clusters.js';
import { clustersForChannel } from '../../src/command/channel-clusters.js';
import { loadVerbs } from '../../src/command/registry.js';
import { requireApp } from '../../src/config/lookup.js';
import { config } from './fixtures.js';

/** Every name Object.prototype answers to, and the ones an attacker types first. */
const PROTO_NAMES = [
  ...new Set([
    ...Object.getOwnPropertyNames(Object.prototype),
    '__proto__',
    'constructor',
    'toString',
    'prototype',
    'valueOf',
    'hasOwnProperty',
  ]),
];
const verbs = await loadVerbs();
const allVerbs = [...verbs.keys()];
const members: MembershipResolver = { isMember: async () => true };

describe('config lookups use own keys only', () => {
  it.each(PROTO_NAMES)('finds no environment, app, channel or cluster named %s', (name) => {
    expect(environmentOf(config, name)).toBeUndefined();
    expect(appOf(config, name)).toBeUndefined();
    expect(channelOf(config, name)).toBeUndefined();
    expect(clusterOf(config, name)).toBeUndefined();
    // The parsed records have no prototype: even a plain index finds nothing.
    expect((config.environments as Record<string, unknown>)[name]).toBeUndefined();
    expect((config.apps as Record<string, unknown>)[name]).toBeUndefined();
    expect((config.channels as Record<string, unknown>)[name]).toBeUndefined();
    expect((config.apps.myapp!.environments as Record<string, unknown>)[name]).toBeUndefined();
  });

  it.each(PROTO_NAMES)('policy answers "no environment" for %s, even from a channel bound to "*"', async (name) => {
    await expect(
      checkPolicy(config, { channelId: 'C0OPS', userId: 'U0OPS', verb: 'deploy', verbClass: 'write', env: name }, allVerbs, members),
    ).rejects.toMatchObject({
      kind: 'denied',
      userMessage: expect.stringContaining(`There is no environment \`${name}\``),
    });
  });

  it.each(PROTO_NAMES)('policy treats a channel named %s as not bound', async (name) => {
    await expect(
      checkPolicy(config, { channelId: name, userId: 'U0OPS', verb: 'status', verbClass: 'read', env: 'beta' }, allVerbs, members),
    ).rejects.toMatchObject({
      kind: 'denied',
      userMessage: expect.stringContaining('not bound'),
    });
  });

  it.each(PROTO_NAMES)('knows no app %s and no approval rule or override for it', (name) => {
    expect(() => requireApp(config, name)).toThrow(
      expect.objectContaining({ kind: 'not_found', userMessage: expect.stringContaining(`There is no app \`${name}\``) }),
    );
    expect(approvalRuleFor(config, verbs.get('deploy')!, { app: 'myapp', env: name }, name)).toBeUndefined();
    expect(appForEnvironment(config.apps.myapp!, name)).toEqual(appForEnvironment(config.apps.myapp!, 'no-such-env'));
  });

  it.each(PROTO_NAMES)('finds no cluster for an environment named %s', async (name) => {
    const dir = await mkdtemp(join(tmpdir(), 'own-keys-'));
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:1", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: ctx, context: {cluster: c, user: u}}]\ncurrent-context: ctx\n',
    );
    const cfg = parseConfig(
      `clusters: { main: { context: ctx, kubeconfig: ${kubeconfig} } }\nenvironments: { beta: { cluster: main, namespace: beta } }\nchannels: { C0OPS: { environments: ["*"], commands: ["*"] } }\n`,
      'c.yaml',
    );
    const clusters = new Clusters(cfg, 'c.yaml');
    expect(() => clusters.forEnvironment(name)).toThrow(/unknown environment/);
    const ctx = {
      config: cfg,
      request: { channelId: 'C0OPS' } as never,
      environment: (env: string) => ({ name: env, namespace: env, cluster: clusters.forEnvironment(env) }),
    };
    expect(() => clustersForChannel(ctx, name)).toThrow(
      expect.objectContaining({ kind: 'bad_input', userMessage: expect.stringContaining(`There is no environment \`${name}\``) }),
    );
  });

  it('refuses a config that names an inherited key as an environment, cluster or promoteFrom', () => {
    const base = 'environments: { beta: { namespace: beta } }\n';
    expect(() => parseConfig(`${base}channels: { C0X: { environments: [constructor], commands: [status] } }\n`, 'c.yaml')).toThrow(
      /unknown environment "constructor"/,
    );
    expect(() => parseConfig(`${base}alerts: [{ environments: [toString], channel: C0ONCALL }]\n`, 'c.yaml')).toThrow(
      /unknown environment "toString"/,
    );
    expect(() =>
      parseConfig('environments: { beta: { namespace: beta, cluster: constructor, promoteFrom: hasOwnProperty } }\n', 'c.yaml'),
    ).toThrow(/unknown cluster "constructor"[\s\S]*unknown environment "hasOwnProperty"/);
  });
});
