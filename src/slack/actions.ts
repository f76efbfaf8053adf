import type { App, BlockAction, ButtonAction } from '@slack/bolt';

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
    channelId: body.channel?.id ?? (body.container as { channel_id?: string } | undefined)?.channel_id ?? '',
    ...(body.team?.id ? { teamId: body.team.id } : {}),
    ...(message?.ts ? { messageTs: message.ts } : {}),
    ...(message?.thread_ts ? { threadTs: message.thread_ts } : {}),
    value: action.value ?? '',
    ...(body.response_url ? { responseUrl: body.response_url } : {}),
    ...(body.trigger_id ? { triggerId: body.trigger_id } : {}),
  };
}

/**
 * Matches a button family: `base` itself or `base:<variant>`. Buttons in one
 * block need distinct action_ids (Slack refuses the message otherwise), so
 * variants of one action (Silence 1h / 24h) carry a suffix and share a handler.
 */
export function actionFamily(base: string): RegExp {
  return new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?::[\\w-]+)?$`);
}

/** Registers a button handler for `actionId` and its `actionId:<variant>`s: acks at once, then runs `handle` with the click. */
export function onButton(app: App, actionId: string, handle: (click: Click) => Promise<void>): void {
  app.action<BlockAction<ButtonAction>>({ action_id: actionFamily(actionId), type: 'block_actions' }, async ({ ack, body, action }) => {
    await ack();
    await handle(clickFrom(body, action));
  });
}
