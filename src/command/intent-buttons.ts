import type { App } from '@slack/bolt';
import { onButton } from '../slack/actions.js';
import { postToResponseUrl } from '../slack/respond.js';
import { clickAsCommand, handleSlashCommand, type IntakeDeps } from './intake.js';
import { RUN_INTENT_ACTION, type CommandIntent } from './intents.js';
import { describeError, logFailure } from '../errors/index.js';
import { storeUnreachable } from '../queue/redis.js';
import { errorMessage } from '../slack/errors.js';
import type { SlackMessage } from '../slack/blocks.js';
import { TamperedRecordError } from '../security/signing.js';
import { reportTampered } from '../security/tampered.js';

/**
 * "Run this command" buttons (Rollback, Restart, Yes-scale-to-0): the command
 * lives server-side; it runs as the clicker, through parsing, policy and the queue
 * exactly as if typed, and reports in the thread the button sits in.
 */
export function registerIntentButtons(app: App, deps: IntakeDeps): void {
  onButton(app, RUN_INTENT_ACTION, async (click) => {
    const reply = async (message: string | SlackMessage) => {
      if (click.responseUrl) await postToResponseUrl(click.responseUrl, typeof message === 'string' ? { text: message } : message);
    };
    let intent: CommandIntent | undefined;
    try {
      intent = await deps.services.intents.get(click.value);
    } catch (err) {
      if (!(err instanceof TamperedRecordError)) {
        // Not an expired button: the bot could not look it up. Say so, so the user tries again.
        const described = describeError(storeUnreachable(err));
        logFailure(deps.log, err, described, 'button click failed: could not read its command', { user: click.userId });
        return reply(errorMessage(described));
      }
      await reportTampered({ audit: deps.services.audit, log: deps.log }, err, { userId: click.userId, channelId: click.channelId });
    }
    if (!intent) return reply(':hourglass: This button has expired. Type the command instead.');
    if (intent.channelId !== click.channelId) return reply(':no_entry: This button belongs to another channel.');
    const result = await handleSlashCommand(deps, clickAsCommand(click, intent.text, intent.threadTs));
    await reply({ text: result.reply.text, ...(result.reply.blocks ? { blocks: result.reply.blocks } : {}) });
  });
}
