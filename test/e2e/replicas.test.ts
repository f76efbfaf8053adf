/**
 * Issue 12 §3 as a test: 2 app, 3 worker and 2 alerts processes on one Redis (single, then a Cluster), scale
 * commands over 10 targets, one worker and the alerts leader SIGKILLed midway. bench/replicas.ts runs it and checks
 * every property (each job once, no overlap on a target, one leader at a time, one alert per incident); here with a
 * small load and a 3 s leader Lease so the failover fits. Seven processes starting on two cores are the main cost.
 */
import { describe, expect, it } from 'vitest';
import { benchReplicas } from '../../bench/replicas.js';
import type { Topology } from '../../bench/procs/redis.js';

/** Seven `node --import tsx src/main.ts` starts, a Cluster for the second case, and the run: generous for a loaded CI machine. */
const CASE_MS = 240_000;

const run = async (redis: Topology) => {
  const { lines, failures } = await benchReplicas({ commands: 60, rate: 20, redis, env: { CHATOPS_LEADER_LEASE_MS: '3000' } });
  // The figures in the CI log, passed or not.
  console.log(`replicas on ${redis} Redis:\n${lines.join('\n')}`);
  return failures;
};

describe('many replicas on one Redis, a worker and the alerts leader SIGKILLed midway', () => {
  it(
    'single Redis: every job runs exactly once, never two on one target, one alerts leader at a time, one message per incident',
    async () => {
      expect(await run('single')).toEqual([]);
    },
    CASE_MS,
  );

  it(
    'Redis Cluster: the same, every key of the bot in one slot',
    async () => {
      expect(await run('cluster')).toEqual([]);
    },
    CASE_MS,
  );
});
