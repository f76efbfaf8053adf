import { z } from 'zod';
import { defineVerb } from '../src/command/types.js';
import { alertQueueOn, enqueueIncident } from '../src/alerts/alert-queue.js';
import { SilenceStore } from '../src/alerts/silences.js';
import { denied, notFound } from '../src/errors/index.js';
import { allowedEnvironments, bindingFor, describeAllowance } from '../src/policy/index.js';
import { escapeMrkdwn, section } from '../src/slack/blocks.js';

const schema = z.object({
  id: z.string().regex(/^sil-[0-9a-f]{8}$/, 'a silence id looks like `sil-1a2b3c4d` (`/k8s silences` lists them)'),
});
type Args = z.infer<typeof schema>;

export default defineVerb<Args>({
  verb: 'unsilence',
  summary: 'Lift an alert silence before it ends',
  usage: 'unsilence <id>',
  example: 'unsilence sil-1a2b3c4d',
  // Write like `silence`: the channel's binding must allow it, and only for the environments it is bound to; audited.
  class: 'write',
  runsIn: 'app',
  positionals: ['id'],
  schema,
  target: () => ({}),
  async run(ctx) {
    const store = new SilenceStore(ctx.services.redis, ctx.services.prefix);
    const record = await store.get(ctx.args.id);
    const binding = bindingFor(ctx.config, ctx.request.channelId);
    if (!record) throw notFound(`There is no silence \`${ctx.args.id}\` in force (it may have ended). \`/k8s silences\` lists them.`);
    // A node silence covering other environments' alert channels is lifted only by a channel that may touch them all.
    const allowed = binding ? allowedEnvironments(ctx.config, binding) : [];
    const outside = [record.env, ...(record.environments ?? [])].find((e) => !allowed.includes(e));
    if (outside !== undefined)
      throw denied(
        `This channel may not touch \`${outside}\`, so it may not lift ${outside === record.env ? 'its silences' : 'this silence, which covers its alerts'}. ${describeAllowance(ctx.config, ctx.request.channelId, [...ctx.verbs.keys()])}`,
      );
    const { lifted, noted } = await store.lift(record, ctx.request.userId);
    if (!lifted) throw notFound(`The silence \`${ctx.args.id}\` has just ended.`);
    // Headlines drop their "silenced until"; what happened meanwhile is on their count.
    const queue = alertQueueOn(ctx.services.redis, ctx.services.prefix);
    await Promise.all(record.incidents.map((id) => enqueueIncident(queue, id, false)));
    await ctx.services.audit.record({
      outcome: 'succeeded',
      verb: 'unsilence',
      command: `unsilence ${record.id}`,
      userId: ctx.request.userId,
      channelId: ctx.request.channelId,
      env: record.env,
      ...(record.workload.kind === 'Node' ? {} : { app: record.target }),
      ref: record.id,
    });
    const text = `:bell: Lifted \`${record.id}\`: ${record.kind} of ${record.workload.kind === 'Node' ? 'node' : 'app'} \`${escapeMrkdwn(record.target)}\` in \`${record.env}\` alerts again.${noted.length ? ' Noted in the open incident’s thread.' : ''}`;
    await ctx.replyInChannel({ text, blocks: [section(text)] });
  },
});
