import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { nameArg } from '../src/command/schemas.js';
import { allowedEnvironments, bindingFor } from '../src/policy/index.js';
import { codeBlock, context, section } from '../src/slack/blocks.js';
import { table } from '../src/slack/views/status.js';
import { hasOwnKey } from '../src/config/lookup.js';

/** `audit`, `audit <env>`, `audit <app>`, `audit <app> <env>`: a lone word is an env if one has that name. */
const schema = z.object({ first: nameArg('app or environment').optional(), second: nameArg('environment').optional() });
type Args = z.infer<typeof schema>;

const ICONS: Record<string, string> = {
  accepted: 'queued',
  denied: 'DENIED',
  rejected_input: 'bad input',
  approval_requested: 'approval?',
  approved: 'approved',
  rejected: 'rejected',
  expired: 'expired',
  cancelled: 'cancelled',
  succeeded: 'ok',
  failed: 'FAILED',
};

export default defineVerb<Args>({
  verb: 'audit',
  summary: 'Recent audited actions: who did what, where, and how it ended',
  usage: 'audit [app] [env]',
  example: 'audit myapp prod',
  class: 'read',
  runsIn: 'app',
  positionals: ['first?', 'second?'],
  schema,
  target: ({ first, second }) => (second ? { app: first, env: second } : {}),
  async run(ctx) {
    const { first, second } = ctx.args;
    const filter = second
      ? { app: first, env: second }
      : first && hasOwnKey(ctx.config.environments, first)
        ? { env: first }
        : first
          ? { app: first }
          : {};
    const binding = bindingFor(ctx.config, ctx.request.channelId);
    const visible = new Set(binding ? allowedEnvironments(ctx.config, binding) : []);
    // Entries with no environment (or one not in config) are shown only to their own channel, or one bound to every environment.
    const everything = binding?.environments.includes('*') ?? false;
    // A channel sees what happened in the environments it may touch (and its own commands elsewhere).
    const entries = (await ctx.services.audit.recent({ ...filter, limit: 100 }))
      .filter((e) => everything || (e.env !== undefined && visible.has(e.env)) || e.channelId === ctx.request.channelId)
      .slice(0, 25);
    if (entries.length === 0) {
      await ctx.reply({ text: 'No audited actions match.' });
      return;
    }
    const rows = [['WHEN (UTC)', 'OUTCOME', 'WHO', 'ENV', 'COMMAND']];
    for (const e of entries) {
      rows.push([
        new Date(e.at).toISOString().slice(5, 19).replace('T', ' '),
        ICONS[e.outcome] ?? e.outcome,
        e.userId,
        e.env ?? '-',
        e.command.slice(0, 60),
      ]);
    }
    const text = `Last ${entries.length} audited actions${filter.app ? ` for ${filter.app}` : ''}${filter.env ? ` in ${filter.env}` : ''}`;
    await ctx.reply({
      text,
      blocks: [
        section(`*${text}*`),
        section(codeBlock(table(rows))),
        context("Newest first. The full record (with details) is in the audit stream and the bot's log."),
      ],
    });
  },
});
