import { describe, expect, it } from 'vitest';
import { leaderTimings } from '../../src/alerts/leader.js';
import { loadSettings } from '../../src/config/settings.js';

const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', CHATOPS_SIGNING_KEY: 'k'.repeat(32) };

describe('CHATOPS_LEADER_LEASE_MS', () => {
  it("defaults to Kubernetes' 15 s lease and takes a shorter one in whole seconds", () => {
    expect(loadSettings(base).leaderLeaseMs).toBe(15_000);
    expect(loadSettings({ ...base, CHATOPS_LEADER_LEASE_MS: '3000' }).leaderLeaseMs).toBe(3_000);
  });

  it('refuses at start what a Lease cannot hold, saying why', () => {
    expect(() => loadSettings({ ...base, CHATOPS_LEADER_LEASE_MS: '1500' })).toThrow(
      /CHATOPS_LEADER_LEASE_MS: must be whole seconds \(e\.g\. 15000\): a Kubernetes Lease counts its duration in seconds/,
    );
    expect(() => loadSettings({ ...base, CHATOPS_LEADER_LEASE_MS: '500' })).toThrow(/CHATOPS_LEADER_LEASE_MS: .*>=1000/);
    expect(() => loadSettings({ ...base, CHATOPS_LEADER_LEASE_MS: '600000' })).toThrow(/CHATOPS_LEADER_LEASE_MS: .*<=300000/);
    expect(() => loadSettings({ ...base, CHATOPS_LEADER_LEASE_MS: '15s' })).toThrow(/CHATOPS_LEADER_LEASE_MS/);
  });
});

describe('leaderTimings', () => {
  it("keeps client-go's defaults for a 15 s lease", () => {
    expect(leaderTimings()).toEqual({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
    expect(leaderTimings(3_000)).toEqual({ leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 400 });
  });

  it('rounds the lease up to whole seconds, at least one', () => {
    expect(leaderTimings(1_500).leaseDurationMs).toBe(2_000);
    expect(leaderTimings(200).leaseDurationMs).toBe(1_000);
  });

  it('always steps down before the lease can expire, and retries within the deadline', () => {
    for (const ms of [1, 999, 1_000, 1_001, 2_000, 3_000, 7_000, 15_000, 60_000, 300_000]) {
      const t = leaderTimings(ms);
      expect(t.leaseDurationMs % 1_000).toBe(0);
      expect(t.renewDeadlineMs).toBeLessThan(t.leaseDurationMs);
      expect(t.retryPeriodMs).toBeGreaterThan(0);
      // Several renewal attempts fit before the leader gives up.
      expect(t.retryPeriodMs * 3).toBeLessThan(t.renewDeadlineMs);
    }
  });
});
