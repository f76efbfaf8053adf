import { z } from 'zod';
import { defineVerb, dryRunRefusal } from '../src/command/types.js';
import { allowedApps, allowedEnvironments, allowedVerbs, bindingFor } from '../src/policy/index.js';
import { badInput } from '../src/errors/index.js';
import { context, escapeMrkdwn, section } from '../src/slack/blocks.js';

const schema = z.object({
  verb: z
    .string()
    .max(40)
    .regex(/^[a-z-]+$/, 'verb is a lowercase word')
    .optional(),
});
type Args = z.infer<typeof schema>;

export default defineVerb<Args>({
  verb: 'help',
  summary: "The commands this channel may use, or one command's usage",
  usage: 'help [verb]',
  example: 'help deploy',
  class: 'read',
  runsIn: 'app',
  positionals: ['verb?'],
  schema,
  target: () => ({}),
  async run(ctx) {
    const verbs = ctx.verbs;
    const all = [...verbs.keys()];
    const binding = bindingFor(ctx.config, ctx.request.channelId);
    const mayUse = binding ? allowedVerbs(binding, all) : ['help', 'access'];
    if (ctx.args.verb) {
      const verb = verbs.get(ctx.args.verb);
      if (!verb) throw badInput(`There is no command \`${ctx.args.verb}\`. Try \`/k8s help\`.`);
      const allowed = mayUse.includes(verb.verb) ? '' : '\n:no_entry: This channel may not use it (see `/k8s access`).';
      const dryRun = dryRunRefusal(verb)
        ? ''
        : `\nAdd \`--dry-run\` to see what it would change (a server-side dry run, answered with the diff); nothing is written.`;
      const text = `*${verb.verb}* — ${verb.summary}\nUsage: \`/k8s ${escapeMrkdwn(verb.usage)}\`\nExample: \`/k8s ${escapeMrkdwn(verb.example)}\`\nClass: ${verb.class}${dryRun}${allowed}`;
      await ctx.reply({ text, blocks: [section(text)] });
      return;
    }
    const lines = mayUse
      .map((v) => verbs.get(v))
      .filter((v) => v !== undefined)
      .map((v) => `• \`/k8s ${escapeMrkdwn(v.usage)}\` — ${v.summary}`);
    const apps = binding ? allowedApps(ctx.config, binding) : undefined;
    const scope = binding
      ? `\nOn ${
          allowedEnvironments(ctx.config, binding)
            .map((e) => `\`${e}\``)
            .join(', ') || 'no environments'
        }, for ${apps ? `the apps ${apps.map((a) => `\`${a}\``).join(', ')}` : 'every app'}.`
      : '';
    const text = `Commands this channel may use:\n${lines.join('\n')}${scope}`;
    await ctx.reply({
      text,
      blocks: [
        section(text),
        context(
          '`/k8s help &lt;verb&gt;` shows one command with an example · `/k8s access` shows what this channel may touch · add `--dry-run` to a command that changes something to see the diff first, nothing written',
        ),
      ],
    });
  },
});
