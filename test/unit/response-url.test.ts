import { describe, expect, it } from 'vitest';
import { allowResponseUrlHosts, isAllowedResponseUrl, postToResponseUrl } from '../../src/slack/respond.js';

describe('response_url hosts', () => {
  it("accepts only Slack's hooks host over https, and the configured API origin", async () => {
    expect(isAllowedResponseUrl('https://hooks.slack.com/commands/T0/1/abc')).toBe(true);
    expect(isAllowedResponseUrl('http://hooks.slack.com/commands/T0/1/abc')).toBe(false);
    expect(isAllowedResponseUrl('https://hooks.slack.com.evil.example/commands/x')).toBe(false);
    expect(isAllowedResponseUrl('https://user:pw@hooks.slack.com/commands/x')).toBe(false);
    expect(isAllowedResponseUrl('http://10.0.0.7:8080/admin')).toBe(false);
    expect(isAllowedResponseUrl('not a url')).toBe(false);
    expect(isAllowedResponseUrl('http://127.0.0.1:4555/response/1')).toBe(false);
    allowResponseUrlHosts('http://127.0.0.1:4555/api/');
    expect(isAllowedResponseUrl('http://127.0.0.1:4555/response/1')).toBe(true);
    expect(isAllowedResponseUrl('http://127.0.0.1:4556/response/1'), 'another port is another origin').toBe(false);
    await expect(postToResponseUrl('http://169.254.169.254/latest/meta-data', { text: 'x' })).rejects.toThrow(/response_url refused/);
  });
});
