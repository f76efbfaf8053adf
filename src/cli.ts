#!/usr/bin/env node
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config/load.js';
import { Clusters } from './kube/clusters.js';
import { checkPermissions, formatPermissionReport, missingPermissions, unreachableClusters } from './kube/permission-check.js';
import { checkRedisEviction } from './queue/eviction-check.js';
import { checkRedis, checkSlackToken } from './preflight/index.js';
import { loadRedisSettings, SettingsError } from './config/settings.js';
import { USAGE } from './usage.js';

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

function flag(argv: readonly string[], name: string): string | undefined {
  const index = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (index < 0) return undefined;
  const arg = argv[index]!;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[index + 1];
}

/** Runs the CLI and returns its exit code (0 ok, 1 permissions missing, 2 usage or configuration error). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    (command === undefined ? io.stderr : io.stdout)(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'check') {
    io.stderr(`k8s-chatops: unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  const configFile = flag(argv, '--config') ?? io.env.CHATOPS_CONFIG ?? './chatops.yaml';
  const botNamespace = flag(argv, '--bot-namespace');
  try {
    const config = await loadConfig(configFile);
    // A token that is not set is not checked (checking RBAC from a laptop); a placeholder or a rejected one fails.
    const slack = io.env.SLACK_BOT_TOKEN
      ? await checkSlackToken(io.env.SLACK_BOT_TOKEN, io.env.SLACK_API_URL)
      : { ok: true, sentence: 'Slack: not checked (SLACK_BOT_TOKEN is not set).' };
    io.stdout(`${slack.sentence}\n`);
    // The same topology as the bot's (REDIS_URL, REDIS_TLS_CA, REDIS_SENTINELS…, REDIS_CLUSTER_NODES).
    const where = loadRedisSettings(io.env);
    const reachable = await checkRedis(where);
    const redis = reachable.ok ? await checkRedisEviction(where) : { line: reachable.sentence, evicts: false };
    io.stdout(`${redis.line}\n\n`);
    const clusters = new Clusters(config, configFile);
    const reports = await checkPermissions(clusters, config, botNamespace ? { botNamespace } : {});
    io.stdout(`${formatPermissionReport(reports)}\n`);
    const problems =
      !slack.ok || !reachable.ok || redis.evicts || unreachableClusters(reports).length > 0 || missingPermissions(reports).length > 0;
    return problems ? 1 : 0;
  } catch (err) {
    if (err instanceof ConfigError || err instanceof SettingsError) {
      io.stderr(`k8s-chatops: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // Like `npm start`: a local .env is read if present (the environment wins).
  if (existsSync('.env')) process.loadEnvFile('.env');
  runCli(process.argv.slice(2), {
    env: process.env,
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`k8s-chatops: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
