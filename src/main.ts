import { existsSync } from 'node:fs';
import { ConfigError } from './config/load.js';
import { SettingsError, loadSettings } from './config/settings.js';
import { createLogger } from './log.js';
import { startChatOps } from './runtime.js';

/** `npm start`: every role in one process, or one role with --role / CHATOPS_ROLE. */
async function main(): Promise<void> {
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
    const hardExit = setTimeout(() => process.exit(1), 40_000);
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
