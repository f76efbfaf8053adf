import { existsSync } from 'node:fs';
import { ConfigError } from './config/load.js';
import { SettingsError, loadSettings, type Settings } from './config/settings.js';
import { createLogger } from './log.js';
import { startChatOps } from './runtime.js';
import { checkRedis, checkSlackToken } from './preflight/index.js';
import { USAGE, wantsHelp } from './usage.js';

/** Sentinel, Cluster and private-CA set-ups are left to the connection itself (and the outage log). */
const singleRedis = (settings: Settings) => !settings.redis.sentinels && !settings.redis.clusterNodes && !settings.redis.tlsCaFile;

/** `npm start`: every role in one process, or one role with --role / CHATOPS_ROLE. */
async function main(): Promise<void> {
  if (wantsHelp(process.argv.slice(2))) {
    process.stdout.write(USAGE);
    return;
  }
  // A local .env (see .env.example) is read if present; real deployments set the environment.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const log = createLogger();
  let settings;
  try {
    settings = loadSettings(process.env, process.argv.slice(2));
  } catch (err) {
    if (err instanceof SettingsError) {
      process.stderr.write(`k8s-chatops: ${err.message}\nSee .env.example for every variable.\n`);
      process.exit(2);
    }
    throw err;
  }
  log.level = settings.logLevel;
  // One plain sentence per dependency that is not ready; a token that cannot work stops here.
  const [token, redis] = await Promise.all([
    checkSlackToken(settings.botToken, settings.apiUrl),
    singleRedis(settings) ? checkRedis(settings.redisUrl) : Promise.resolve({ ok: true, sentence: '' }),
  ]);
  if (token.fatal) {
    process.stderr.write(`k8s-chatops: ${token.sentence}\n`);
    process.exit(2);
  }
  if (!token.ok) log.warn(token.sentence);
  if (!redis.ok) log.warn(`${redis.sentence} The bot starts anyway and answers commands with "try again later" until Redis is back.`);
  let chatops;
  try {
    chatops = await startChatOps(settings, log);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`k8s-chatops: ${err.message}\n`);
      process.exit(2);
    }
    log.fatal({ err }, 'start-up failed');
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: no new work; running jobs get a grace period');
    const hardExit = setTimeout(() => process.exit(1), settings.shutdownGraceMs + 15_000);
    hardExit.unref();
    void chatops.stop().then(() => {
      log.info('stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

void main();
