import { beforeAll, describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';

const h = useHarness({ name: 'socket', socketMode: true });
beforeAll(async () => {
  await h.slack.socket.waitForConnection(5_000);
});

describe('Socket Mode', () => {
  it('takes a slash command from the socket, acks the envelope and deploys', async () => {
    const ack = await h.slack.socket.sendSlashCommand({
      text: 'deploy myapp beta 7.0.0',
      channel_id: 'C0DEVTEAM',
      user_id: 'U0DEV',
      response_url: h.slack.newResponseUrl(),
    });
    expect(ack.payload).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('Queued `deploy myapp 7.0.0 → beta`') });
    await h.waitForFinal(/:white_check_mark: deploy myapp 7\.0\.0 → beta/);
    expect(h.kube.get('apps/v1', 'Deployment', 'beta', 'myapp').spec.template.spec.containers[0].image).toBe(
      'registry.example.com/team/myapp:7.0.0',
    );
  });

  it('still serves health on PORT', async () => {
    expect((await fetch(`${h.baseUrl}/healthz`)).status).toBe(200);
  });
});
