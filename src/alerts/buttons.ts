/**
 * The alert's buttons, registered on the Slack app (which may run without
 * cluster access): Show logs and Silence are queued for the alerts role;
 * Restart is a command intent (`restart <deployment> <env>`, created with the
 * message) that the app's intent handler runs as the clicker, through parsing,
 * policy and approvals.
 *
 * Policy, like every command, through `authorizeCommand` (a channel not bound
 * under `channels` may do nothing): Show logs counts as the verb marked
 * `showsAlertLogs` (`logs`) on the incident's environment, so the channel's
 * binding must allow it there (and the clicker be one of its members, if it
 * names any). Silence changes only this channel's alert noise, so it needs no
 * particular verb, but the channel must be bound to the incident's environment
 * and the clicker allowed by the binding.
 */
import type { App } from '@slack/bolt';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Verb } from '../command/types.js';
import type { Config } from '../config/schema.js';
import { denied, describeError, isChatOpsError, logFailure } from '../errors/index.js';
import { storeUnreachable } from '../queue/redis.js';
import { errorMessage } from '../slack/errors.js';
import type { SlackMessage } from '../slack/blocks.js';
import type { Logger } from '../log.js';
import { appOwningWorkload } from '../config/apps.js';
import type { MembershipResolver } from '../policy/index.js';
import { authorizeCommand, type Authorizable } from '../command/authorize.js';
import { clickRequest } from '../command/intake.js';
import { onButton, type Click } from '../slack/actions.js';
import { isAllowedResponseUrl, postToResponseUrl } from '../slack/respond.js';
import { enqueueIncident, enqueueShowLogs, enqueueSilenceEnd, type AlertJob } from './alert-queue.js';
import { IncidentStore } from './incidents.js';
import { SilenceStore } from './silences.js';
import type { Signer } from '../security/signing.js';
import { SHOW_LOGS_ACTION, SILENCE_ACTION, SILENCE_CHOICES, type SilenceChoice } from './messages.js';

export interface AlertButtonDeps {
  /** Producer connection (fails fast when Redis is down). */
  redis: Redis;
  prefix: string;
  queue: Queue<AlertJob>;
  log: Logger;
  config: Config;
  /** Every verb (for the "this channel may run …" part of a refusal). */
  verbs: ReadonlyMap<string, Verb>;
  members: MembershipResolver;
  signer: Signer;
  now?: () => number;
}

/** Silence changes only this channel's alert noise: no verb, but the channel bound to the incident's environment and the clicker allowed by its binding. */
const SILENCE: Authorizable = { class: 'write', action: 'silence its alerts' };

const ID = /^[0-9a-f]{24}$/;

export function registerAlertButtons(app: App, deps: AlertButtonDeps): void {
  const store = new IncidentStore(deps.redis, deps.prefix);
  const silences = new SilenceStore(deps.redis, deps.prefix);
  const now = deps.now ?? Date.now;
  const reply = async (click: Click, message: string | SlackMessage) => {
    if (click.responseUrl)
      await postToResponseUrl(click.responseUrl, typeof message === 'string' ? { text: message } : message, 'ephemeral', deps.log).catch(
        (err: unknown) => deps.log.warn({ err, user: click.userId }, 'could not answer a button click'),
      );
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
      // Refused by policy, or Slack could not say who is in a user group: the reason and what to do.
      // Anything else here is the incident store or the alert queue: Redis could not be reached.
      const described = describeError(isChatOpsError(err) ? err : storeUnreachable(err));
      logFailure(deps.log, err, described, 'alert button failed', { user: click.userId });
      await reply(click, errorMessage(described));
    }
  };

  onButton(
    app,
    SHOW_LOGS_ACTION,
    guarded(async (click) => {
      const s = await incidentFor(click, click.value);
      if (!s) return;
      // A team channel sees logs only of its own apps (a workload no app adopts counts as its own name).
      const app = appOwningWorkload(deps.config, s.workload.kind, s.workload.name) ?? s.workload.name;
      const logs = [...deps.verbs.values()].find((v) => v.showsAlertLogs);
      if (!logs) throw denied('This bot has no verb that shows logs, so Show logs does nothing here.');
      // Policy alone, as for that verb: the alert reads its own incident's pod, which may belong to no configured app.
      await authorizeCommand(deps, { verb: logs.verb, class: logs.class }, {}, { env: s.env, app }, clickRequest(click, 'Show logs'));
      await enqueueShowLogs(deps.queue, deps.signer, {
        type: 'logs',
        id: s.id,
        userId: click.userId,
        channelId: click.channelId,
        ...(click.threadTs ? { threadTs: click.threadTs } : {}),
        ...(click.responseUrl && isAllowedResponseUrl(click.responseUrl) ? { responseUrl: click.responseUrl } : {}),
      });
    }),
  );

  onButton(
    app,
    SILENCE_ACTION,
    guarded(async (click) => {
      const [id = '', choice = ''] = click.value.split('|');
      if (!(choice in SILENCE_CHOICES)) return reply(click, ':warning: Unknown silence duration.');
      const s = await incidentFor(click, id);
      if (!s) return;
      await authorizeCommand(deps, SILENCE, {}, { env: s.env }, clickRequest(click, `Silence ${choice}`));
      const t = now();
      // The same store as the `silence` command, so `silences` lists it and `unsilence` lifts it.
      await silences.set(
        {
          target: s.workload.name,
          workload: s.workload,
          env: s.env,
          kind: s.kind,
          until: t + SILENCE_CHOICES[choice as SilenceChoice],
          by: click.userId,
          channel: click.channelId,
          incidents: [s.id],
        },
        t,
        { choice },
      );
      await enqueueIncident(deps.queue, s.id, false);
      await enqueueSilenceEnd(deps.queue, s.id, t + SILENCE_CHOICES[choice as SilenceChoice], t);
    }),
  );
}
