import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { appArg, envArg } from '../src/command/schemas.js';
import { formatDuration, parseDuration } from '../src/config/duration.js';
import { appTarget, readAppWorkload } from '../src/command/workload-target.js';
import { requireApp } from '../src/config/lookup.js';
import { groupEvents } from '../src/kube/describe.js';
import { listEventsAbout } from '../src/kube/events.js';
import { workloadObjects } from '../src/kube/workloads/related.js';
import { eventsView } from '../src/slack/views/describe.js';

const DEFAULT_SINCE_MS = 60 * 60 * 1_000;
/** Kubernetes keeps events about an hour by default; a week covers clusters that keep them longer. */
const MAX_SINCE_MS = 7 * 24 * 60 * 60 * 1_000;

const schema = z.object({
  app: appArg,
  env: envArg,
  since: z
    .string()
    .max(20, 'since is a duration like `30m` or `2h`')
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: 'since must be a duration like `30m`, `2h` or `1d`' });
        return z.NEVER;
      }
      if (ms > MAX_SINCE_MS) {
        ctx.addIssue({ code: 'custom', message: 'since is at most `7d`' });
        return z.NEVER;
      }
      return ms;
    })
    .optional(),
  warnings: z.boolean().default(false),
});
type Args = z.infer<typeof schema>;

export default defineVerb<Args>({
  verb: 'events',
  summary: 'Recent events of an app, its revisions and its pods, grouped by reason with counts and when last seen',
  usage: 'events <app> <env> [--since 1h] [--warnings]',
  example: 'events myapp beta --since 30m --warnings',
  class: 'read',
  runsIn: 'worker',
  positionals: ['app', 'env'],
  flags: { since: 'value', warnings: 'boolean' },
  schema,
  target: ({ app, env }) => ({ app, env }),
  check: ({ app }, config) => void requireApp(config, app),
  describe: ({ app, env, warnings }) => `${warnings ? 'warnings' : 'events'} of ${app} in ${env}`,
  async run(ctx) {
    const { app, env: envName, warnings } = ctx.args;
    const sinceMs = ctx.args.since ?? DEFAULT_SINCE_MS;
    const t = appTarget(ctx, app, envName);
    const { names } = await workloadObjects(t.env.cluster, t.target.kind, await readAppWorkload(t));
    const now = Date.now();
    const groups = groupEvents(await listEventsAbout(t.env.cluster, t.env.namespace, names), {
      since: now - sinceMs,
      warningsOnly: warnings,
    });
    await ctx.reply(eventsView({ app, env: envName, sinceLabel: formatDuration(sinceMs), warningsOnly: warnings, groups, now }));
  },
});
