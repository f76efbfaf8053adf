import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  AppsV1Api,
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  NetworkingV1Api,
  ServerConfiguration,
  Watch,
  createConfiguration,
  type Configuration,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import type { ClusterConfig, Config } from '../config/schema.js';
import { ConfigError } from '../config/load.js';
import { clusterOf, environmentOf } from '../config/lookup.js';

/** Typed access to one configured cluster. */
export interface ClusterClient {
  name: string;
  /** What we connect to, for logs and messages (never credentials). */
  server: string;
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  coordination: CoordinationV1Api;
  authorization: AuthorizationV1Api;
  watch: Watch;
  /** Ingresses of rendered apps. */
  networking: NetworkingV1Api;
}

/** The implicit cluster of environments that name none: the kubeconfig's current context. */
export const CURRENT_CONTEXT = '(current-context)';

function defaultKubeconfigPath(): string | undefined {
  const fromEnv = process.env.KUBECONFIG?.split(':').find((p) => p && existsSync(p));
  if (fromEnv) return fromEnv;
  const home = join(homedir(), '.kube', 'config');
  return existsSync(home) ? home : undefined;
}

/**
 * Loads a cluster explicitly — a named context from a kubeconfig file, or the
 * in-cluster service account — and never falls back to localhost:8080.
 */
export function loadKubeConfig(name: string, cluster: ClusterConfig | undefined, configFile: string): KubeConfig {
  const kc = new KubeConfig();
  if (cluster?.inCluster) {
    if (!process.env.KUBERNETES_SERVICE_HOST) {
      throw new ConfigError(configFile, [`clusters.${name}.inCluster: not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST is unset)`]);
    }
    kc.loadFromCluster();
    return kc;
  }
  const path = cluster?.kubeconfig ?? defaultKubeconfigPath();
  const where = cluster ? `clusters.${name}` : 'environments (no cluster given)';
  if (!path) {
    throw new ConfigError(configFile, [`${where}: no kubeconfig found (set KUBECONFIG, or use inCluster: true)`]);
  }
  try {
    kc.loadFromFile(path);
  } catch (err) {
    throw new ConfigError(configFile, [`${where}: cannot load kubeconfig ${path}: ${(err as Error).message}`]);
  }
  const contextName = cluster?.context ?? kc.getCurrentContext();
  if (!contextName)
    throw new ConfigError(configFile, [`${where}: kubeconfig ${path} has no current-context; name one with clusters.<name>.context`]);
  const context = kc.getContextObject(contextName);
  if (!context) {
    const known =
      kc
        .getContexts()
        .map((c) => c.name)
        .join(', ') || 'none';
    throw new ConfigError(configFile, [`${where}.context: unknown context "${contextName}" in ${path} (known: ${known})`]);
  }
  kc.setCurrentContext(contextName);
  if (!kc.getCurrentCluster())
    throw new ConfigError(configFile, [`${where}: context "${contextName}" names a cluster missing from ${path}`]);
  return kc;
}

export function makeClusterClient(name: string, kc: KubeConfig): ClusterClient {
  return {
    name,
    server: kc.getCurrentCluster()?.server ?? 'unknown',
    kubeConfig: kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
    authorization: kc.makeApiClient(AuthorizationV1Api),
    watch: new Watch(kc),
    networking: kc.makeApiClient(NetworkingV1Api),
  };
}

/** One client per cluster used by some environment, built at start so a bad context stops start-up. */
export class Clusters {
  private readonly byName = new Map<string, ClusterClient>();

  constructor(
    private readonly config: Config,
    configFile: string,
  ) {
    for (const env of Object.values(config.environments)) {
      const name = env.cluster ?? CURRENT_CONTEXT;
      if (this.byName.has(name)) continue;
      const kc = loadKubeConfig(name, env.cluster ? clusterOf(config, env.cluster) : undefined, configFile);
      this.byName.set(name, makeClusterClient(name, kc));
    }
  }

  forEnvironment(envName: string): ClusterClient {
    const env = environmentOf(this.config, envName);
    if (!env) throw new Error(`unknown environment ${envName}`);
    const client = this.byName.get(env.cluster ?? CURRENT_CONTEXT);
    if (!client) throw new Error(`no cluster client for environment ${envName}`);
    return client;
  }

  all(): ClusterClient[] {
    return [...this.byName.values()];
  }
}

const guarded = new WeakMap<ClusterClient, ClusterClient>();

/** Refuses, before it is sent, a write that is not a dry run (access reviews ask, they write nothing). */
const dryRunGuard = {
  pre: async (context: RequestContext): Promise<RequestContext> => {
    const method = String(context.getHttpMethod());
    const url = new URL(context.getUrl());
    if (method !== 'GET' && !url.searchParams.getAll('dryRun').includes('All') && !url.pathname.endsWith('/selfsubjectaccessreviews')) {
      throw new Error(`dry run: refused to send ${method} ${url.pathname} without dryRun=All (a write helper was not given the dry run)`);
    }
    return context;
  },
  post: async (context: ResponseContext): Promise<ResponseContext> => context,
};

/**
 * The same cluster for a dry run: its API clients refuse any write sent without
 * `dryRun=All`, so a verb that forgets to pass the dry run to a write helper fails
 * (internal error) instead of writing. Watches and reads go through unchanged.
 */
export function dryRunOnly(cluster: ClusterClient): ClusterClient {
  const cached = guarded.get(cluster);
  if (cached) return cached;
  const kc = cluster.kubeConfig;
  const server = kc.getCurrentCluster()?.server ?? cluster.server;
  const make = <T>(Api: new (config: Configuration) => T): T =>
    new Api(
      createConfiguration({
        baseServer: new ServerConfiguration(server, {}),
        authMethods: { default: kc },
        promiseMiddleware: [dryRunGuard],
      }),
    );
  const client: ClusterClient = {
    ...cluster,
    core: make(CoreV1Api),
    apps: make(AppsV1Api),
    coordination: make(CoordinationV1Api),
    authorization: make(AuthorizationV1Api),
    networking: make(NetworkingV1Api),
  };
  guarded.set(cluster, client);
  return client;
}
