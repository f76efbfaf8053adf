import type { SlackMessage } from './blocks.js';

/** The fields of a slash command this bot uses (Slack sends them form-encoded). */
export interface SlashCommandInput {
  command: string;
  text: string;
  user_id: string;
  user_name?: string;
  channel_id: string;
  team_id?: string;
  response_url?: string;
  trigger_id?: string;
  /** Set for commands that come from a button inside a thread. */
  thread_ts?: string;
}

/** What the command pipeline hands back to the transport: the ack's content, and labels for metrics. */
export interface SlashCommandAnswer {
  verb: string;
  outcome: string;
  reply: SlackMessage & { response_type: 'ephemeral' | 'in_channel' };
}
