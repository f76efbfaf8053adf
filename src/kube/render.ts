import { createHash } from 'node:crypto';
import type { V1ConfigMap, V1Deployment, V1Service } from '@kubernetes/client-node';
import type { AppConfig } from '../config/schema.js';
import { ownEntry } from '../config/lookup.js';

export const FIELD_MANAGER = 'k8s-chatops';
export const LABEL_APP = 'app.kubernetes.io/name';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_ENV = 'k8s-chatops.io/environment';
export const ANNOTATION_DEPLOYED_BY = 'k8s-chatops.io/deployed-by';
export const ANNOTATION_DEPLOYED_FROM = 'k8s-chatops.io/deployed-from-channel';
export const ANNOTATION_REQUEST_ID = 'k8s-chatops.io/request-id';
export const ANNOTATION_CONFIG_CHECKSUM = 'k8s-chatops.io/config-checksum';
export const ANNOTATION_RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
export const ANNOTATION_CHANGE_CAUSE = 'kubernetes.io/change-cause';

export interface RenderInput {
  appName: string;
  app: AppConfig;
  envName: string;
  namespace: string;
  version: string;
  requestedBy: string;
  channelId: string;
  /** The Slack request this change comes from: lets a retried job recognise its own earlier apply. */
  requestId: string;
  /** Set when the same image is deployed again, so the pods restart and pull it. */
  restartedAt?: string;
  /** The config file's keys for the app's ConfigMap (what deploy applies). */
  configData: Record<string, string>;
  /**
   * The ConfigMap's whole data after apply (file keys plus keys set in chat), which
   * the checksum must cover so any change rolls the pods. Default: configData.
   */
  checksumData?: Record<string, string>;
}

export interface RenderedApp {
  deployment: V1Deployment;
  service?: V1Service;
  configMap: V1ConfigMap;
}

export const configMapName = (appName: string) => `${appName}-config`;

export function imageRef(app: AppConfig, version: string): string {
  return `${app.image}:${version}`;
}

/** The tag part of an image reference ("repo:tag" or "repo@sha256:…"). */
export function imageTag(image: string): string | undefined {
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(at + 1);
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? image.slice(colon + 1) : undefined;
}

export function checksum(data: Record<string, string>): string {
  const sorted = Object.keys(data).sort().map((k) => [k, data[k]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

/** Effective app settings in one environment: per-env overrides over the app's defaults. */
export function appForEnvironment(app: AppConfig, envName: string) {
  const overrides = ownEntry(app.environments, envName) ?? {};
  return {
    replicas: overrides.replicas ?? app.replicas,
    resources: overrides.resources ?? app.resources,
    env: { ...app.env, ...overrides.env },
    defaultTag: overrides.defaultTag ?? app.defaultTag,
  };
}

/** Renders what `deploy` applies. Pure: the same input gives the same objects. */
export function renderApp(input: RenderInput): RenderedApp {
  const { appName, app, envName, namespace } = input;
  const effective = appForEnvironment(app, envName);
  const labels = { [LABEL_APP]: appName, [LABEL_MANAGED_BY]: FIELD_MANAGER, [LABEL_ENV]: envName };
  const templateAnnotations: Record<string, string> = { [ANNOTATION_CONFIG_CHECKSUM]: checksum(input.checksumData ?? input.configData) };
  if (input.restartedAt) templateAnnotations[ANNOTATION_RESTARTED_AT] = input.restartedAt;

  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: appName,
      namespace,
      labels,
      annotations: {
        [ANNOTATION_DEPLOYED_BY]: input.requestedBy,
        [ANNOTATION_DEPLOYED_FROM]: input.channelId,
        [ANNOTATION_REQUEST_ID]: input.requestId,
        [ANNOTATION_CHANGE_CAUSE]: `k8s-chatops deploy ${appName} ${envName} ${input.version} by ${input.requestedBy}`,
      },
    },
    spec: {
      replicas: effective.replicas,
      progressDeadlineSeconds: app.progressDeadlineSeconds,
      revisionHistoryLimit: 10,
      selector: { matchLabels: { [LABEL_APP]: appName } },
      template: {
        metadata: { labels, annotations: templateAnnotations },
        spec: {
          containers: [
            {
              name: appName,
              image: imageRef(app, input.version),
              imagePullPolicy: 'IfNotPresent',
              envFrom: [{ configMapRef: { name: configMapName(appName) } }],
              ...(app.port ? { ports: [{ name: 'http', containerPort: app.port, protocol: 'TCP' }] } : {}),
              ...(effective.resources ? { resources: effective.resources } : {}),
            },
          ],
        },
      },
    },
  };

  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: configMapName(appName), namespace, labels },
    data: input.configData,
  };

  const service: V1Service | undefined = app.port
    ? {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: appName, namespace, labels },
        spec: {
          selector: { [LABEL_APP]: appName },
          ports: [{ name: 'http', port: app.port, targetPort: 'http', protocol: 'TCP' }],
        },
      }
    : undefined;

  return { deployment, configMap, ...(service ? { service } : {}) };
}
