/**
 * `/k8s config` end to end, then what an approver is shown for each write verb (the previews read the
 * revisions and config the config tests leave) and which commands need no approval.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { checksum } from '../../src/kube/render.js';
import { loadVerbs } from '../../src/command/registry.js';
import { parseCommand } from '../../src/command/parse.js';
import type { WorkerVerb, WorkerVerbContext } from '../../src/command/types.js';
import { makeClusterClient } from '../../src/kube/clusters.js';
import { keysHolding } from '../support/redis.js';
import { until } from '../support/redis-topologies.js';
import {
  OPS,
  deployment,
  h,
  myappPods,
  privateAnswer,
  threadText,
  useWriteVerbsHarness,
  workloadRequests,
} from './write-verbs-fixtures.js';

useWriteVerbsHarness('write-verbs-config');
let since = 0;
beforeEach(() => {
  since = h.mark();
});

describe('/k8s config', () => {
  it('sets keys, stamps the new checksum on the pod template and follows the pods rolling', async () => {
    await h.command('config myapp beta set LOG_LEVEL=debug DB_PASSWORD=hunter2 FEATURE_X=on&amp;off', { channel: OPS });
    const done = await h.waitForFinal(/:white_check_mark: config set LOG_LEVEL, DB_PASSWORD, FEATURE_X on myapp in beta — done/, { since });
    const data = h.kube.get('v1', 'ConfigMap', 'beta', 'myapp-config').data;
    expect(data).toEqual({ LOG_LEVEL: 'debug', DB_PASSWORD: 'hunter2', FEATURE_X: 'on&off' });
    expect(deployment().spec.template.metadata.annotations['k8s-chatops.io/config-checksum']).toBe(checksum(data));
    const thread = threadText(done.args.ts);
    expect(thread).toContain('LOG_LEVEL: `info` → `debug`');
    expect(thread).toContain('DB_PASSWORD = `••••••` (new)');
    expect(thread).toContain('the next deploy puts LOG_LEVEL back to `info`');
    expect(JSON.stringify(h.slack.calls.filter((c) => c.seq > since))).not.toContain('hunter2');
    const patch = h.kube.requests
      .filter((r) => r.method === 'PATCH' && r.path === '/api/v1/namespaces/beta/configmaps/myapp-config')
      .at(-1);
    expect(patch?.contentType).toContain('application/merge-patch+json');
    expect(patch?.query.fieldManager).toBe('k8s-chatops-config');
  });

  it('keeps no secret value in Redis: the job carries it sealed and drops even that when it ends', async () => {
    const ack = await h.command('config myapp beta set DB_PASSWORD=s3cr3t-in-transit LOG_LEVEL=warn', { channel: OPS });
    const jobId = /job `(cmd-[a-f0-9]+)`/.exec(JSON.stringify(ack.json.blocks))![1]!;
    const queued = await h.chatops.queue.getJob(jobId);
    expect((queued?.data.args as { words: string[] }).words).toEqual(['DB_PASSWORD=••••••', 'LOG_LEVEL=warn']);
    await h.waitForFinal(/:white_check_mark: config set DB_PASSWORD, LOG_LEVEL on myapp in beta — done/, { since });
    expect(h.kube.get('v1', 'ConfigMap', 'beta', 'myapp-config').data.DB_PASSWORD).toBe('s3cr3t-in-transit');
    // The finished job keeps its (masked) data for its retention, without the sealed copy.
    await until(async () => (await h.chatops.queue.getJob(jobId))?.data.sealedArgs === undefined, 5_000, 'the sealed arguments dropped');
    expect(await keysHolding(h.prefix, 's3cr3t-in-transit')).toEqual([]);
    expect(await keysHolding(h.prefix, `"sealedArgs"`)).toEqual([]);
    // Back to what the next tests expect.
    since = h.mark();
    await h.command('config myapp beta set DB_PASSWORD=hunter2 LOG_LEVEL=debug', { channel: OPS });
    await h.waitForFinal(/:white_check_mark: config set DB_PASSWORD, LOG_LEVEL on myapp in beta — done/, { since });
  });

  it('shows keys and values, with secret keys masked', async () => {
    const res = await h.command('config myapp beta get', { channel: OPS });
    const answer = await privateAnswer(res.responseUrl);
    expect(answer.body.text).toContain('LOG_LEVEL=debug');
    expect(answer.body.text).toContain('DB_PASSWORD=••••••');
    // Slack mrkdwn: &, < and > are escaped wherever text is shown.
    expect(answer.body.text).toContain('FEATURE_X=on&amp;off');
    expect(JSON.stringify(answer.body)).not.toContain('hunter2');
    expect(JSON.stringify(answer.body.blocks)).toContain('```');
  });

  it('unsets keys, and says so when there is nothing to change', async () => {
    await h.command('config myapp beta unset FEATURE_X', { channel: OPS });
    await h.waitForFinal(/:white_check_mark: config unset FEATURE_X on myapp in beta — done/, { since });
    const data = h.kube.get('v1', 'ConfigMap', 'beta', 'myapp-config').data;
    expect(data.FEATURE_X).toBeUndefined();
    expect(deployment().spec.template.metadata.annotations['k8s-chatops.io/config-checksum']).toBe(checksum(data));

    const again = await h.command('config myapp beta unset FEATURE_X', { channel: OPS });
    expect((await privateAnswer(again.responseUrl)).body.text).toContain('Nothing to change: FEATURE_X is not set for myapp in beta');
  });

  it('keeps keys added in chat over a deploy, and puts back the configured values', async () => {
    await h.command('config myapp beta set EXTRA=1', { channel: OPS });
    await h.waitForFinal(/:white_check_mark: config set EXTRA on myapp in beta — done/, { since });
    await h.deployAndWait('myapp', 'beta', '1.2.0', { channel: OPS });
    expect(h.kube.get('v1', 'ConfigMap', 'beta', 'myapp-config').data).toEqual({ LOG_LEVEL: 'info', DB_PASSWORD: 'hunter2', EXTRA: '1' });
  });

  it('rolls the pods even when the checksum a deploy stamped already matches the new data', async () => {
    // deploy stamps the checksum of the config file's keys only, so dropping the chat-only keys yields that very checksum.
    const podsBefore = myappPods();
    await h.command('config myapp beta unset EXTRA DB_PASSWORD', { channel: OPS });
    await h.waitForFinal(/:white_check_mark: config unset EXTRA, DB_PASSWORD on myapp in beta — done/, { since });
    const data = h.kube.get('v1', 'ConfigMap', 'beta', 'myapp-config').data;
    expect(data).toEqual({ LOG_LEVEL: 'info' });
    expect(deployment().spec.template.metadata.annotations['k8s-chatops.io/config-checksum']).toBe(checksum(data));
    const podsAfter = myappPods();
    expect(podsAfter).toHaveLength(2);
    expect(podsAfter.filter((p) => podsBefore.includes(p))).toEqual([]);
  });

  it.each([
    ['config myapp beta set 1BAD=x', /`1BAD` is not a valid key/],
    ['config myapp beta set GREETING=hello world', /`world` is not KEY=VALUE \(values cannot contain spaces/],
    ['config myapp beta set', /give at least one KEY=VALUE/],
    ['config myapp beta unset A=1', /`unset` takes keys only/],
    ['config myapp beta get LOG_LEVEL', /takes nothing more/],
    ['config myapp beta show', /the action is `get`, `set KEY=VALUE\.\.\.` or `unset KEY\.\.\.`/],
    [`config myapp beta set ${Array.from({ length: 21 }, (_, i) => `K${i}=v`).join(' ')}`, /at most 20 keys per command/],
    ['config nope beta get', /no app `nope`/],
  ])('answers %s with the reason, and calls nothing', async (text, expected) => {
    const before = workloadRequests();
    const res = await h.command(text, { channel: OPS });
    expect(res.json.text).toMatch(expected);
    expect(workloadRequests()).toBe(before);
  });

  it('says plainly when the app has never been deployed to the environment', async () => {
    const res = await h.command('config myapp prod get', { channel: OPS });
    const answer = await privateAnswer(res.responseUrl);
    expect(answer.body.text).toMatch(
      /configmap myapp-config in namespace prod not found — has myapp been deployed to prod\? Try `\/k8s deploy myapp prod`/,
    );
  });
});

describe('what an approver is shown, and what needs no approval', () => {
  /** Runs a verb's preview hook against the emulator, as the approval gate does before posting a request. */
  async function preview(text: string): Promise<string[]> {
    const { verb, args } = parseCommand(text, await loadVerbs());
    const kc = new KubeConfig();
    kc.loadFromFile(h.kubeconfig);
    const cluster = makeClusterClient('emulator', kc);
    const request = { requestId: 'preview', text, userId: 'U0OPS', channelId: OPS, receivedAt: Date.now() };
    const ctx = {
      args,
      request,
      config: h.chatops.config,
      environment: (name: string) => ({ name, namespace: name, cluster }),
    } as unknown as WorkerVerbContext<unknown>;
    return (verb as WorkerVerb).preview!(ctx);
  }

  it('previews each change in a line', async () => {
    expect(await preview('scale myapp beta 0 --yes')).toEqual(['replicas 2 → 0 (stops every pod)']);
    expect(await preview('restart myapp beta')).toEqual([
      expect.stringMatching(/^replace every pod of myapp \(2 pods\) in a rolling update/),
    ]);
    // The previous revision is the last config change's: same image, other config checksum.
    expect(await preview('rollback myapp beta')).toEqual([
      expect.stringMatching(/^revision \d+ → \d+$/),
      expect.stringMatching(/^image .*myapp:1\.2\.0 → .*myapp:1\.2\.0$/),
    ]);
    expect(await preview('config myapp beta set LOG_LEVEL=warn DB_PASSWORD=x')).toEqual([
      'LOG_LEVEL: `info` → `warn`',
      'DB_PASSWORD = `••••••` (new)',
    ]);
  });

  it('treats config get and an unconfirmed scale to 0 as changing nothing', async () => {
    const verbs = await loadVerbs();
    const changesNothing = (text: string) => {
      const { verb, args } = parseCommand(text, verbs);
      return (verb as WorkerVerb).changesNothing?.(args) ?? false;
    };
    expect(changesNothing('config myapp beta get')).toBe(true);
    expect(changesNothing('config myapp beta set A=1')).toBe(false);
    expect(changesNothing('scale myapp beta 0')).toBe(true);
    expect(changesNothing('scale myapp beta 0 --yes')).toBe(false);
    expect(changesNothing('scale myapp beta 1')).toBe(false);
  });
});
