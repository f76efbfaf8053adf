import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { SilenceStore } from '../src/alerts/silences.js';
import { allowedEnvironments, bindingFor } from '../src/policy/index.js';
import { silencesView } from '../src/slack/views/silences.js';

const schema = z.object({});
type Args = z.infer<typeof schema>;

export default defineVerb<Args>({
  verb: 'silences',
  summary: 'Alert silences in force in the environments this channel is bound to',
  usage: 'silences',
  example: 'silences',
  class: 'read',
  runsIn: 'app',
  positionals: [],
  schema,
  target: () => ({}),
  async run(ctx) {
    const binding = bindingFor(ctx.config, ctx.request.channelId);
    const visible = new Set(binding ? allowedEnvironments(ctx.config, binding) : []);
    const all = await new SilenceStore(ctx.services.redis, ctx.services.prefix).list(Date.now());
    // A node silence also shows where it covers alerts of other environments (its `environments`).
    const rows = all
      .filter((s) => visible.has(s.env) || (s.environments ?? []).some((e) => visible.has(e)))
      .map((s) => ({
        id: s.id,
        target: s.target,
        node: s.workload.kind === 'Node',
        env: s.env,
        ...(s.environments?.some((e) => e !== s.env) ? { covers: s.environments } : {}),
        kind: s.kind,
        until: s.until,
        by: s.by,
        ...(s.reason ? { reason: s.reason } : {}),
      }));
    await ctx.reply(silencesView(rows));
  },
});
