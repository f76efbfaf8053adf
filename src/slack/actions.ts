import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { handleSlashCommand, type IntakeDeps } from './intake.js';
import { RUN_INTENT_ACTION } from './intents.js';
import { postToResponseUrl } from './respond.js';

/** Who clicked what, where: all a button handler may take from the payload. */
export interface Click {
  userId: string;
  userName?: string;
  channelId: string;
  teamId?: string;
  messageTs?: string;
  threadTs?: string;
  value: string;
  responseUrl?: string;
  triggerId?: string;
}

export function clickFrom(body: BlockAction, action: ButtonAction): Click {
  const message = body.message as { ts?: string; thread_ts?: string } | undefined;
  return {
    userId: body.user.id,
    ...(body.user.username ? { userName: body.user.username } : {}),
    channelId: body.channel?.id ?? body.container?.channel_id ?? '',
    ...(body.team?.id ? { teamId: body.team.id } : {}),
    ...(message?.ts ? { messageTs: message.ts } : {}),
    ...(message?.thread_ts ? { threadTs: message.thread_ts } : {}),
    value: action.value ?? '',
    ...(body.response_url ? { responseUrl: body.response_url } : {}),
    ...(body.trigger_id ? { triggerId: body.trigger_id } : {}),
  };
}

/** Registers a button handler: acks at once, then runs `handle` with the click. */
export function onButton(app: App, actionId: string | RegExp, handle: (click: Click) => Promise<void>): void {
  app.action<BlockAction<ButtonAction>>({ action_id: actionId, type: 'block_actions' }, async ({ ack, body, action }) => {
    await ack();
    await handle(clickFrom(body, action));
  });
}

/**
 * "Run this command" buttons (Rollback, Restart, Yes-scale-to-0): the command
 * lives server-side; it runs as the clicker, through parsing, policy and the queue
 * exactly as if typed, and reports in the thread the button sits in.
 */
export function registerIntentButtons(app: App, deps: IntakeDeps): void {
  onButton(app, RUN_INTENT_ACTION, async (click) => {
    const reply = async (text: string) => {
      if (click.responseUrl) await postToResponseUrl(click.responseUrl, { text });
    };
    const intent = await deps.services.intents.get(click.value).catch(() => undefined);
    if (!intent) return reply(':hourglass: This button has expired. Type the command instead.');
    if (intent.channelId !== click.channelId) return reply(':no_entry: This button belongs to another channel.');
    const result = await handleSlashCommand(deps, {
      command: '/k8s',
      text: intent.text,
      user_id: click.userId,
      ...(click.userName ? { user_name: click.userName } : {}),
      channel_id: click.channelId,
      ...(click.teamId ? { team_id: click.teamId } : {}),
      ...(click.responseUrl ? { response_url: click.responseUrl } : {}),
      ...(click.triggerId ? { trigger_id: click.triggerId } : {}),
      ...(intent.threadTs ? { thread_ts: intent.threadTs } : {}),
    });
    await reply(result.reply.text);
  });
}
