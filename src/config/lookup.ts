import { notFound } from '../errors/index.js';
import type { AppConfig, ChannelBinding, ClusterConfig, Config, EnvironmentConfig } from './schema.js';

/**
 * Own keys only: a name typed in chat (`constructor`, `__proto__`, `toString`)
 * must never find a member of Object.prototype and pass for a configured one.
 */
export function ownEntry<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

export function hasOwnKey(record: Readonly<Record<string, unknown>> | undefined, key: string): boolean {
  return record !== undefined && Object.hasOwn(record, key);
}

export const environmentOf = (config: Config, name: string): EnvironmentConfig | undefined => ownEntry(config.environments, name);
export const appOf = (config: Config, name: string): AppConfig | undefined => ownEntry(config.apps, name);
export const channelOf = (config: Config, channelId: string): ChannelBinding | undefined => ownEntry(config.channels, channelId);
/** The app's config, or a not-found error naming the apps there are (verbs act only on configured apps). */
export function requireApp(config: Config, app: string): AppConfig {
  const appConfig = appOf(config, app);
  if (!appConfig) {
    const known = Object.keys(config.apps);
    throw notFound(
      `There is no app \`${app}\` in the bot's config${known.length ? ` (known: ${known.map((a) => `\`${a}\``).join(', ')})` : ''}. The bot acts only on configured apps.`,
    );
  }
  return appConfig;
}

export const clusterOf = (config: Config, name: string): ClusterConfig | undefined => ownEntry(config.clusters, name);

function nullPrototype<T>(record: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, record);
}

/** The config's name-keyed records without a prototype: a second guard for any lookup that forgets `ownEntry`. */
export function withNullPrototypes(config: Config): Config {
  const apps = nullPrototype(config.apps);
  for (const [name, app] of Object.entries(apps))
    apps[name] = { ...app, environments: nullPrototype(app.environments), env: nullPrototype(app.env) };
  return {
    ...config,
    clusters: nullPrototype(config.clusters),
    environments: nullPrototype(config.environments),
    apps,
    channels: nullPrototype(config.channels),
  };
}
