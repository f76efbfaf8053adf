import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric the bot exports, in one registry (not prom-client's global one). */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'chatops_' });

export const commandsTotal = new Counter({
  name: 'chatops_commands_total',
  help: 'Slash commands received, by verb and outcome (queued, answered, denied, bad_input, unavailable)',
  labelNames: ['verb', 'outcome'] as const,
  registers: [registry],
});

export const ackSeconds = new Histogram({
  name: 'chatops_ack_seconds',
  help: 'Time from receiving a slash command to acknowledging it',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3],
  registers: [registry],
});

export const jobDurationSeconds = new Histogram({
  name: 'chatops_job_duration_seconds',
  help: 'Worker job duration, by verb and outcome',
  labelNames: ['verb', 'outcome'] as const,
  buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600],
  registers: [registry],
});

export const queueJobs = new Gauge({
  name: 'chatops_queue_jobs',
  help: 'Jobs in the command queue, by state',
  labelNames: ['state'] as const,
  registers: [registry],
});

export const approvalsTotal = new Counter({
  name: 'chatops_approvals_total',
  help: 'Approval requests, by outcome',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const alertsTotal = new Counter({
  name: 'chatops_alerts_total',
  help: 'Alerts detected, by kind',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const slackApiErrorsTotal = new Counter({
  name: 'chatops_slack_api_errors_total',
  help: 'Slack Web API errors, by method and error (ratelimited = 429)',
  labelNames: ['method', 'error'] as const,
  registers: [registry],
});

export const slackInvalidBlocksTotal = new Counter({
  name: 'chatops_slack_invalid_blocks_total',
  help: 'Messages Slack refused as invalid_blocks and sent again as plain text, by method (or response_url)',
  labelNames: ['method'] as const,
  registers: [registry],
});

export const watchRestartsTotal = new Counter({
  name: 'chatops_watch_restarts_total',
  help: 'Kubernetes watches restarted after an error or a server-side close',
  labelNames: ['resource'] as const,
  registers: [registry],
});
