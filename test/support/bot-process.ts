/** The bot as its own process (`src/main.ts` compiled by tsx), as `npm start` runs it minus the build: for tests that kill it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { BOT_TOKEN, SIGNING_SECRET } from './harness.js';
import { TEST_REDIS_URL, TEST_SIGNING_KEY } from './redis.js';

export interface BotProcess {
  child: ChildProcess;
  /** The port the bot bound (it picks its own: PORT=0). */
  port: number;
  /** http://127.0.0.1:PORT/slack/events */
  eventsUrl: string;
  /** The tail of what it printed (its log lines), for a failure's message. */
  output(): string;
  /** Ends the process with this signal and resolves with its exit code once it is gone (at once if it already is). */
  stop(signal: NodeJS.Signals): Promise<number | null>;
}

/** The settings of a test bot against the emulators and the test Redis (add CHATOPS_JOB_LOCK_MS, CHATOPS_ROLE, …). */
export const botEnv = (o: { slackUrl: string; configFile: string; prefix: string }): Record<string, string> => ({
  SLACK_BOT_TOKEN: BOT_TOKEN,
  SLACK_SIGNING_SECRET: SIGNING_SECRET,
  SLACK_API_URL: o.slackUrl,
  REDIS_URL: TEST_REDIS_URL,
  CHATOPS_SIGNING_KEY: TEST_SIGNING_KEY,
  CHATOPS_CONFIG: o.configFile,
  CHATOPS_QUEUE_PREFIX: o.prefix,
});

/** Starts `src/main.ts` with these settings (PORT=0, LOG_LEVEL=info); resolves once it logs 'k8s-chatops started'. */
export async function startBot(env: Record<string, string>): Promise<BotProcess> {
  // Port 0: the bot binds a port of its own and logs it (a port picked here could be taken before the bot binds it).
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, ...env, PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // Both pipes are read to the end: a full pipe would block the bot's writes.
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-50_000);
  };
  child.stderr.on('data', keep);
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      keep(chunk);
      const started = out
        .split('\n')
        .slice(0, -1)
        .find((l) => l.includes('k8s-chatops started'));
      if (started) resolve((JSON.parse(started) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`bot exited with ${code}: ${out.slice(-2000)}`)));
  });
  return {
    child,
    port,
    eventsUrl: `http://127.0.0.1:${port}/slack/events`,
    output: () => out.slice(-4_000),
    async stop(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit') as Promise<[number | null]>;
      child.kill(signal);
      return (await exited)[0];
    },
  };
}
