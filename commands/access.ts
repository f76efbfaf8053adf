import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { allowedEnvironments, bindingFor, describeAllowance } from '../src/policy/index.js';
import { context, section } from '../src/slack/blocks.js';
import { environmentOf } from '../src/config/lookup.js';

const schema = z.object({});

export default defineVerb<Record<string, never>>({
  verb: 'access',
  summary: 'What this channel may do, and who approves production changes',
  usage: 'access',
  example: 'access',
  class: 'read',
  runsIn: 'app',
  positionals: [],
  schema,
  target: () => ({}),
  async run(ctx) {
    const verbs = [...ctx.verbs.keys()];
    const summary = describeAllowance(ctx.config, ctx.request.channelId, verbs);
    const binding = bindingFor(ctx.config, ctx.request.channelId);
    const approvals = binding
      ? allowedEnvironments(ctx.config, binding)
          .map((name) => [name, environmentOf(ctx.config, name)?.approval] as const)
          .filter(([, approval]) => approval)
          .map(
            ([name, a]) =>
              `• \`${name}\`: write commands need ${a!.minApprovals} approval(s) from ${a!.approvers.map((id) => (id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`)).join(', ')}${a!.allowSelfApproval ? '' : ' (not the requester)'}`,
          )
      : [];
    const text = `${summary}${approvals.length ? `\n*Approvals*\n${approvals.join('\n')}` : ''}`;
    await ctx.reply({
      text,
      blocks: [section(text), context("Bindings live under `channels` in the bot's config; ask ops to change them.")],
    });
  },
});
