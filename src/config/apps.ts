import type { AppConfig, Config } from './schema.js';
import type { WorkloadKind } from './workload-schema.js';
import { ownEntry } from './lookup.js';

/** The workload an app is in one environment: rendered by the bot, or adopted as it is. */
export interface AppWorkload {
  app: string;
  kind: WorkloadKind;
  /** The workload's name in the environment's namespace. */
  name: string;
  /** The container whose image `deploy` sets. */
  container: string;
  /** The ConfigMap `config` edits; absent = none (an adopted app that names none). */
  configMap?: string;
  /** True when the bot did not render it (`workload` in config): only the one image field is ours. */
  adopted: boolean;
}

export const renderedConfigMapName = (appName: string) => `${appName}-config`;

export function appWorkload(appName: string, app: AppConfig, envName: string): AppWorkload {
  if (app.workload) {
    const { kind, name, container, configMap } = app.workload;
    return { app: appName, kind, name, container, ...(configMap ? { configMap } : {}), adopted: true };
  }
  const kind = ownEntry(app.environments, envName)?.kind ?? app.kind ?? 'Deployment';
  return { app: appName, kind, name: appName, container: appName, configMap: renderedConfigMapName(appName), adopted: false };
}

/** The configured app a workload (by kind and name) belongs to, if any. */
export function appOwningWorkload(config: Config, kind: string, name: string): string | undefined {
  for (const [appName, app] of Object.entries(config.apps)) {
    if (app.workload ? app.workload.kind === kind && app.workload.name === name : appName === name) return appName;
  }
  return undefined;
}
