#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config/load.js';
import { Clusters } from './kube/clusters.js';
import { checkPermissions, formatPermissionReport, missingPermissions } from './kube/permissions.js';
import { checkRedisEviction } from './queue/eviction-check.js';

const USAGE = `usage: k8s-chatops check [--config FILE] [--bot-namespace NAMESPACE]

  check   ask each configured cluster (SelfSubjectAccessReview) whether the bot
          may do what its commands need, print a table per environment; read
          Redis's maxmemory-policy ($REDIS_URL); exit 1 when a needed permission
          is missing or Redis may evict keys (2 on a configuration error).

  --config FILE              the config file (default: $CHATOPS_CONFIG or ./chatops.yaml)
  --bot-namespace NAMESPACE  the bot's own namespace, for the leader-election Lease
                             (default: $POD_NAMESPACE or the pod's service account namespace)
`;

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
    const clusters = new Clusters(config, configFile);
    const reports = await checkPermissions(clusters, config, botNamespace ? { botNamespace } : {});
    io.stdout(`${formatPermissionReport(reports)}\n`);
    const redis = await checkRedisEviction(io.env.REDIS_URL);
    io.stdout(`${redis.line}\n`);
    return missingPermissions(reports).length > 0 || redis.evicts ? 1 : 0;
  } catch (err) {
    if (err instanceof ConfigError) {
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
