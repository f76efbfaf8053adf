import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App } from '@slack/bolt';
import type { Logger } from '../log.js';
import { routeHandler, type Route } from '../server/health.js';
import { ackSeconds, commandsTotal } from '../server/metrics.js';
import { boltLogger } from './bolt-logger.js';
import type { SlashCommandAnswer, SlashCommandInput } from './slash-command.js';

type BoltApp = InstanceType<typeof App>;

export interface SlackAppOptions {
  botToken: string;
  signingSecret: string;
  /** Set = Socket Mode; else HTTP on `port`. */
  appToken?: string;
  /** Web API base URL (SLACK_API_URL), e.g. an emulator's. */
  apiUrl?: string;
  port: number;
  routes: Route[];
  /** The command pipeline: what the ack says (src/command/intake.ts). */
  onCommand(command: SlashCommandInput): Promise<SlashCommandAnswer>;
  log: Logger;
  /** Lets other concerns (command intents, approvals, alerts) register their button listeners. */
  register?: (app: BoltApp) => void;
}

export interface RunningSlackApp {
  app: BoltApp;
  /** The HTTP port actually bound (events in HTTP mode, health and metrics in both). */
  port: number;
  stop(): Promise<void>;
}

export async function startSlackApp(opts: SlackAppOptions): Promise<RunningSlackApp> {
  const socketMode = Boolean(opts.appToken);
  const app = new App({
    token: opts.botToken,
    signingSecret: opts.signingSecret,
    logger: boltLogger(opts.log),
    // Initialise explicitly so a Slack auth failure is a start-up error, not an unhandled rejection.
    deferInitialization: true,
    clientOptions: { ...(opts.apiUrl ? { slackApiUrl: opts.apiUrl } : {}), retryConfig: { retries: 3 } },
    ...(socketMode ? { socketMode: true, appToken: opts.appToken } : { customRoutes: opts.routes, processBeforeResponse: false }),
  });

  await app.init();
  app.command(/.*/, async ({ command, ack }) => {
    const started = performance.now();
    const result = await opts.onCommand(command);
    await ack(result.reply);
    ackSeconds.observe((performance.now() - started) / 1_000);
    commandsTotal.inc({ verb: result.verb, outcome: result.outcome });
  });
  opts.register?.(app);
  app.error(async (err) => {
    opts.log.error({ err }, 'unhandled error in a Slack listener');
  });

  if (socketMode) {
    await app.start();
    const server = createServer(routeHandler(opts.routes));
    await new Promise<void>((resolve) => server.listen(opts.port, resolve));
    return {
      app,
      port: (server.address() as AddressInfo).port,
      stop: async () => {
        await app.stop();
        await closeServer(server);
      },
    };
  }
  const server = (await app.start(opts.port)) as Server;
  return {
    app,
    port: (server.address() as AddressInfo).port,
    stop: async () => {
      await app.stop();
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
