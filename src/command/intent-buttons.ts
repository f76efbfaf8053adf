import type { App } from '@slack/bolt';
import { onButton } from '../slack/actions.js';
import { postToResponseUrl } from '../slack/respond.js';
import { clickAsCommand, handleSlashCommand, type IntakeDeps } from './intake.js';
import { RUN_INTENT_ACTION } from './intents.js';
import { TamperedRecordError } from '../security/signing.js';
import { reportTampered } from '../security/tampered.js';

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
    const intent = await deps.services.intents.get(click.value).catch(async (err: unknown) => {
      if (err instanceof TamperedRecordError)
        await reportTampered({ audit: deps.services.audit, log: deps.log }, err, { userId: click.userId, channelId: click.channelId });
      return undefined;
    });
    if (!intent) return reply(':hourglass: This button has expired. Type the command instead.');
    if (intent.channelId !== click.channelId) return reply(':no_entry: This button belongs to another channel.');
    const result = await handleSlashCommand(deps, clickAsCommand(click, intent.text, intent.threadTs));
    await reply(result.reply.text);
  });
}
