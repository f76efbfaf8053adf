/** The `silences` answer: silences in force in the channel's environments, soonest to end first. */
import { escapeMrkdwn, mention, section, context, type SlackMessage } from '../blocks.js';
import { slackDate } from '../code-sections.js';

export interface SilenceRow {
  id: string;
  target: string;
  node: boolean;
  env: string;
  /** A node silence set in `env` that covers alert channels of these environments. */
  covers?: string[];
  kind: string;
  until: number;
  by: string;
  reason?: string;
}

export function silencesView(rows: readonly SilenceRow[]): SlackMessage {
  if (rows.length === 0) {
    const text = ':bell: No silences in force in this channel’s environments.';
    return { text, blocks: [section(text)] };
  }
  const lines = rows.map(
    (r) =>
      `• \`${r.id}\` ${r.kind} of ${r.node ? 'node' : 'app'} \`${escapeMrkdwn(r.target)}\` in \`${escapeMrkdwn(r.env)}\`${r.covers ? ` (alerts of ${r.covers.map((e) => `\`${escapeMrkdwn(e)}\``).join(', ')})` : ''} until ${slackDate(r.until)} — by ${mention(r.by)}${r.reason ? `: ${escapeMrkdwn(r.reason)}` : ''}`,
  );
  const text = `:no_bell: ${rows.length} silence${rows.length === 1 ? '' : 's'} in force:`;
  return {
    text: `${text}\n${lines.join('\n')}`.slice(0, 3_000),
    blocks: [section(`${text}\n${lines.join('\n')}`.slice(0, 3_000)), context('`/k8s unsilence &lt;id&gt;` lifts one.')],
  };
}
