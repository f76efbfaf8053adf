/**
 * The alert's buttons, registered on the Slack app (which may run without
 * cluster access): Show logs and Silence are queued for the alerts role;
 * Restart is a command intent (`restart <deployment> <env>`, created with the
 * message) that the app's intent handler runs as the clicker, through parsing,
 * policy and approvals.
 */
import type { App } from '@slack/bolt';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { onButton, type Click } from '../slack/actions.js';
import { postToResponseUrl } from '../slack/respond.js';
import { enqueueIncident, enqueueShowLogs, type AlertJob } from './delivery.js';
import { IncidentStore } from './incidents.js';
import { SHOW_LOGS_ACTION, SILENCE_ACTION, SILENCE_CHOICES, type SilenceChoice } from './messages.js';

export interface AlertButtonDeps {
  /** Producer connection (fails fast when Redis is down). */
  redis: Redis;
  prefix: string;
  queue: Queue<AlertJob>;
  log: Logger;
  now?: () => number;
}

const ID = /^[0-9a-f]{24}$/;

export function registerAlertButtons(app: App, deps: AlertButtonDeps): void {
  const store = new IncidentStore(deps.redis, deps.prefix);
  const now = deps.now ?? Date.now;
  const reply = async (click: Click, text: string) => {
    if (click.responseUrl) await postToResponseUrl(click.responseUrl, { text }).catch((err) => deps.log.warn({ err: String(err) }, 'could not answer a button click'));
  };
  /** The incident the button belongs to, if it is one of this channel's. */
  const incidentFor = async (click: Click, id: string) => {
    const s = ID.test(id) ? await store.load(id) : undefined;
    if (!s) {
      await reply(click, ':hourglass: This alert is no longer known.');
      return undefined;
    }
    if (s.channel !== click.channelId) {
      await reply(click, ':no_entry: This button belongs to another channel.');
      return undefined;
    }
    return s;
  };
  const guarded = (handle: (click: Click) => Promise<void>) => async (click: Click) => {
    try {
      await handle(click);
    } catch (err) {
      deps.log.warn({ err: String(err), user: click.userId }, 'alert button failed');
      await reply(click, ':hourglass: The bot cannot reach its Redis right now; try again in a minute.');
    }
  };

  onButton(app, SHOW_LOGS_ACTION, guarded(async (click) => {
    const s = await incidentFor(click, click.value);
    if (!s) return;
    await enqueueShowLogs(deps.queue, { type: 'logs', id: s.id, userId: click.userId, channelId: click.channelId, ...(click.threadTs ? { threadTs: click.threadTs } : {}) });
  }));

  onButton(app, SILENCE_ACTION, guarded(async (click) => {
    const [id = '', choice = ''] = click.value.split('|');
    if (!(choice in SILENCE_CHOICES)) return reply(click, ':warning: Unknown silence duration.');
    const s = await incidentFor(click, id);
    if (!s) return;
    const t = now();
    await store.silence(s.id, choice as SilenceChoice, t + SILENCE_CHOICES[choice as SilenceChoice], click.userId, t);
    await enqueueIncident(deps.queue, s.id, false);
  }));
}
