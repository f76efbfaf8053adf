import { describe, expect, it } from 'vitest';
import { E2E_CONFIG } from '../support/harness.js';
import { useHarness } from '../support/use-harness.js';

/** A beta team and a prod team, each allowed every verb on its own environment only. */
const CONFIG = (kubeconfig: string) =>
  E2E_CONFIG(kubeconfig).replace(
    'channels:\n',
    'channels:\n  C0BETA: { environments: [beta], commands: ["*"] }\n  C0PROD: { environments: [prod], commands: ["*"] }\n',
  );

const h = useHarness({ name: 'channel-scope', config: CONFIG });

const answerOf = async (text: string, channel: string) => {
  const res = await h.command(text, { channel, user: 'U0DEV' });
  return String(res.json.text);
};

describe('a channel acts on and sees only its environments', () => {
  it("cancel refuses a job of an environment the channel is not bound to, even the same user's", async () => {
    const ack = await h.command('scale myapp prod 0 --yes', { channel: 'C0PROD', user: 'U0DEV' });
    const jobId = /job `([^`]+)`/.exec(JSON.stringify(ack.json))![1]!;
    const refused = await answerOf(`cancel ${jobId}`, 'C0BETA');
    expect(refused).toContain('This channel may not touch `prod`, so it may not cancel its work either.');
    const audited = await h.chatops.services.audit.recent({ verb: 'cancel', limit: 10 });
    expect(audited.filter((e) => e.outcome === 'cancelled')).toEqual([]);
  });

  it("audit shows a channel its environments' entries and its own, not other channels' entries without an environment", async () => {
    await h.chatops.services.audit.record({
      outcome: 'denied',
      verb: 'label',
      command: 'label secret-node team=x',
      userId: 'U0OTHER',
      channelId: 'C0PROD',
    });
    await h.chatops.services.audit.record({
      outcome: 'accepted',
      verb: 'deploy',
      command: 'deploy myapp prod 9.9.9',
      userId: 'U0OTHER',
      channelId: 'C0PROD',
      env: 'prod',
      app: 'myapp',
    });
    await h.chatops.services.audit.record({
      outcome: 'accepted',
      verb: 'deploy',
      command: 'deploy myapp beta 1.2.3',
      userId: 'U0OTHER',
      channelId: 'C0OPS',
      env: 'beta',
      app: 'myapp',
    });
    await h.chatops.services.audit.record({
      outcome: 'denied',
      verb: 'deploy',
      command: 'deploy myapp prod 6.6.6',
      userId: 'U0DEV',
      channelId: 'C0BETA',
      env: 'prod',
      app: 'myapp',
    });
    const res = await h.command('audit', { channel: 'C0BETA', user: 'U0DEV' });
    const shown = `${res.json.text}\n${JSON.stringify(res.json.blocks ?? [])}`;
    expect(shown).toContain('deploy myapp beta 1.2.3');
    expect(shown).toContain('deploy myapp prod 6.6.6'); // its own
    expect(shown).not.toContain('secret-node');
    expect(shown).not.toContain('9.9.9');
  });
});
