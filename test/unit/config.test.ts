import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { parseDuration } from '../../src/config/duration.js';
import { CONFIG_YAML, config } from './fixtures.js';

describe('config', () => {
  it('parses the design example with defaults and durations in ms', () => {
    expect(config.environments.prod?.approval?.timeout).toBe(30 * 60_000);
    expect(config.environments.beta?.maxReplicas).toBe(50);
    expect(config.alerts[0]?.pendingFor).toBe(120_000);
    expect(config.apps.myapp?.progressDeadlineSeconds).toBe(600);
  });

  it('names the file, the path inside it and what is wrong', () => {
    const bad = CONFIG_YAML.replace('namespace: beta }', 'namespace: Beta_NS }');
    expect(() => parseConfig(bad, '/etc/chatops.yaml')).toThrow(ConfigError);
    try {
      parseConfig(bad, '/etc/chatops.yaml');
    } catch (err) {
      expect((err as Error).message).toContain('/etc/chatops.yaml');
      expect((err as Error).message).toContain('environments.beta.namespace');
      expect((err as Error).message).toContain('DNS-1123');
    }
  });

  it('refuses references to unknown environments and clusters', () => {
    const bad = CONFIG_YAML.replace('promoteFrom: beta', 'promoteFrom: staging\n    cluster: nope');
    expect(() => parseConfig(bad, 'c.yaml')).toThrow(
      /environments\.prod\.cluster: unknown cluster "nope"[\s\S]*promoteFrom: unknown environment "staging"/,
    );
  });

  it('reports YAML syntax errors readably', () => {
    expect(() => parseConfig('environments: [', 'c.yaml')).toThrow(/c\.yaml[\s\S]*YAML syntax/);
  });

  it('parses durations', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('5 minutes')).toBeUndefined();
  });
});

describe('process settings', () => {
  it('says which variable is missing and where to get it', async () => {
    const { loadSettings } = await import('../../src/config/settings.js');
    expect(() => loadSettings({})).toThrow(/SLACK_BOT_TOKEN: is required: the bot token/);
    const key = { CHATOPS_SIGNING_KEY: 'k'.repeat(32) };
    expect(() => loadSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' })).toThrow(
      /CHATOPS_SIGNING_KEY: is required: a random secret .*openssl rand -base64 32/,
    );
    expect(() => loadSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', CHATOPS_SIGNING_KEY: 'short' })).toThrow(
      /CHATOPS_SIGNING_KEY: must be at least 32 characters/,
    );
    expect(() => loadSettings({ SLACK_BOT_TOKEN: 'xoxb-1', ...key })).toThrow(/SLACK_SIGNING_SECRET: is required in HTTP mode/);
    expect(loadSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', ...key }, ['--role', 'worker']).roles).toEqual(['worker']);
    expect(() => loadSettings({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', ...key }, ['--role=boss'])).toThrow(
      /--role must be one of app, worker, alerts/,
    );
  });
});
