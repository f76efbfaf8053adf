import { createHash } from 'node:crypto';
import type { V1ConfigMap, V1DaemonSet, V1Deployment, V1Ingress, V1PodSpec, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import type { AppConfig } from '../config/schema.js';
import { ownEntry } from '../config/lookup.js';
import { TEMPLATE_KEYS, type TemplateKey } from '../config/workload-schema.js';
import { namedPorts, probes, spreadConstraints } from './render-pod.js';
import { mergeResources, type ResourceSettings } from './workloads/set-resources.js';

/** The template fields a per-environment override may replace: the config schema's list. */
export { TEMPLATE_KEYS };

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

/** Who changed a workload, from which channel, under which request, and why (the cause `kubectl rollout history` shows). */
export function changeAnnotations(who: { by: string; channelId: string; requestId: string }, what: string): Record<string, string> {
  return {
    [ANNOTATION_DEPLOYED_BY]: who.by,
    [ANNOTATION_DEPLOYED_FROM]: who.channelId,
    [ANNOTATION_REQUEST_ID]: who.requestId,
    [ANNOTATION_CHANGE_CAUSE]: `k8s-chatops ${what} by ${who.by}`,
  };
}

/** The request a change is made for, as a command request carries it (structural: src/kube imports nothing above it). */
export interface ChangeRequest {
  userId: string;
  userName?: string | undefined;
  channelId: string;
  requestId: string;
}

/** changeAnnotations for a command's change: by its user's name (else id), from its channel, under its request id. */
export function requestAnnotations(request: ChangeRequest, what: string): Record<string, string> {
  return changeAnnotations({ by: request.userName ?? request.userId, channelId: request.channelId, requestId: request.requestId }, what);
}

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
  /** Requests and limits set in chat with `resources` (kept on the live workload): applied over the config's. */
  chatResources?: ResourceSettings;
}

export interface RenderedApp {
  workload: V1Deployment | V1StatefulSet | V1DaemonSet;
  service?: V1Service;
  /** StatefulSet only: the Service its pods take their stable names from. */
  headlessService?: V1Service;
  ingress?: V1Ingress;
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
  const sorted = Object.keys(data)
    .sort()
    .map((k) => [k, data[k]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

/** Effective app settings in one environment: per-env overrides over the app's defaults. */
export function appForEnvironment(app: AppConfig, envName: string) {
  const overrides = ownEntry(app.environments, envName) ?? {};
  const template = Object.fromEntries(TEMPLATE_KEYS.map((k) => [k, overrides[k] ?? app[k]]).filter(([, v]) => v !== undefined)) as Partial<
    Pick<AppConfig, TemplateKey>
  >;
  return {
    ...template,
    kind: template.kind ?? 'Deployment',
    port: app.port,
    replicas: overrides.replicas ?? app.replicas,
    resources: overrides.resources ?? app.resources,
    env: { ...app.env, ...overrides.env },
    defaultTag: overrides.defaultTag ?? app.defaultTag,
  };
}
export type EffectiveApp = ReturnType<typeof appForEnvironment>;

/** The headless Service a StatefulSet's pods get their stable names from. */
export const headlessServiceName = (appName: string) => `${appName}-headless`;

type Workload = V1Deployment | V1StatefulSet | V1DaemonSet;

/** Renders what `deploy` applies. Pure: the same input gives the same objects. */
export function renderApp(input: RenderInput): RenderedApp {
  const { appName, app, envName, namespace } = input;
  const effective = appForEnvironment(app, envName);
  const ours = { [LABEL_APP]: appName, [LABEL_MANAGED_BY]: FIELD_MANAGER, [LABEL_ENV]: envName };
  // Our labels last: a config label can add, never replace, what selection and ownership rest on.
  const labels = { ...effective.labels, ...ours };
  const selector = { [LABEL_APP]: appName };
  const templateAnnotations: Record<string, string> = {
    ...effective.annotations,
    [ANNOTATION_CONFIG_CHECKSUM]: checksum(input.checksumData ?? input.configData),
  };
  if (input.restartedAt) templateAnnotations[ANNOTATION_RESTARTED_AT] = input.restartedAt;
  const ports = namedPorts(effective);
  const chatSet = input.chatResources && (input.chatResources.requests || input.chatResources.limits);
  const resources = chatSet ? mergeResources(effective.resources, input.chatResources) : effective.resources;
  const metadata = (name: string) => ({ name, namespace, labels });
  const meta = (kind: string) => ({ apiVersion: kind === 'Ingress' ? 'networking.k8s.io/v1' : 'v1', kind });

  const podSpec: V1PodSpec = {
    ...(effective.serviceAccountName ? { serviceAccountName: effective.serviceAccountName } : {}),
    ...(effective.nodeSelector ? { nodeSelector: effective.nodeSelector } : {}),
    ...(effective.tolerations ? { tolerations: effective.tolerations } : {}),
    ...(effective.affinity ? { affinity: effective.affinity as V1PodSpec['affinity'] } : {}),
    ...(effective.spread ? { topologySpreadConstraints: spreadConstraints(effective.spread, selector)! } : {}),
    containers: [
      {
        name: appName,
        image: imageRef(app, input.version),
        imagePullPolicy: 'IfNotPresent',
        ...(effective.command ? { command: effective.command } : {}),
        ...(effective.args ? { args: effective.args } : {}),
        envFrom: [{ configMapRef: { name: configMapName(appName) } }],
        ...(ports.length ? { ports: ports.map(([name, containerPort]) => ({ name, containerPort, protocol: 'TCP' })) } : {}),
        ...(resources ? { resources } : {}),
        ...probes(effective.healthCheck),
        ...(effective.storage ? { volumeMounts: [{ name: 'data', mountPath: effective.storage.mountPath }] } : {}),
      },
    ],
  };
  const template = { metadata: { labels, annotations: templateAnnotations }, spec: podSpec };
  const rollingUpdate = {
    ...(effective.maxSurge !== undefined ? { maxSurge: effective.maxSurge as never } : {}),
    ...(effective.maxUnavailable !== undefined ? { maxUnavailable: effective.maxUnavailable as never } : {}),
  };
  const hasRolling = Object.keys(rollingUpdate).length > 0;
  const minReady = effective.minReadySeconds !== undefined ? { minReadySeconds: effective.minReadySeconds } : {};
  const workloadMeta = {
    ...metadata(appName),
    annotations: changeAnnotations(
      { by: input.requestedBy, channelId: input.channelId, requestId: input.requestId },
      `deploy ${appName} ${envName} ${input.version}`,
    ),
  };

  let workload: Workload;
  if (effective.kind === 'StatefulSet') {
    workload = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: workloadMeta,
      spec: {
        replicas: effective.replicas,
        serviceName: headlessServiceName(appName),
        revisionHistoryLimit: 10,
        ...minReady,
        selector: { matchLabels: selector },
        updateStrategy: {
          type: 'RollingUpdate',
          ...(effective.maxUnavailable !== undefined ? { rollingUpdate: { maxUnavailable: effective.maxUnavailable as never } } : {}),
        },
        template,
        ...(effective.storage
          ? {
              volumeClaimTemplates: [
                {
                  metadata: { name: 'data', labels },
                  spec: {
                    accessModes: ['ReadWriteOnce'],
                    ...(effective.storage.storageClass ? { storageClassName: effective.storage.storageClass } : {}),
                    resources: { requests: { storage: effective.storage.size } },
                  },
                },
              ],
            }
          : {}),
      },
    };
  } else if (effective.kind === 'DaemonSet') {
    workload = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: workloadMeta,
      spec: {
        revisionHistoryLimit: 10,
        ...minReady,
        selector: { matchLabels: selector },
        updateStrategy: { type: 'RollingUpdate', ...(hasRolling ? { rollingUpdate } : {}) },
        template,
      },
    };
  } else {
    workload = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: workloadMeta,
      spec: {
        replicas: effective.replicas,
        progressDeadlineSeconds: app.progressDeadlineSeconds,
        revisionHistoryLimit: 10,
        ...minReady,
        selector: { matchLabels: selector },
        ...(hasRolling ? { strategy: { type: 'RollingUpdate', rollingUpdate } } : {}),
        template,
      },
    };
  }

  const configMap: V1ConfigMap = { ...meta('ConfigMap'), metadata: metadata(configMapName(appName)), data: input.configData };
  const servicePorts = ports.map(([name, port]) => ({ name, port, targetPort: name as never, protocol: 'TCP' }));
  const service: V1Service | undefined = ports.length
    ? { ...meta('Service'), metadata: metadata(appName), spec: { selector, ports: servicePorts } }
    : undefined;
  const headlessService: V1Service | undefined =
    effective.kind === 'StatefulSet'
      ? {
          ...meta('Service'),
          metadata: metadata(headlessServiceName(appName)),
          spec: { clusterIP: 'None', selector, ...(ports.length ? { ports: servicePorts } : {}) },
        }
      : undefined;
  const ing = effective.ingress;
  const backendPort = ing ? (ing.port ?? (ports.some(([n]) => n === 'http') ? 'http' : ports[0]?.[0])) : undefined;
  const ingress: V1Ingress | undefined =
    ing && backendPort
      ? {
          ...meta('Ingress'),
          metadata: metadata(appName),
          spec: {
            ...(ing.className ? { ingressClassName: ing.className } : {}),
            ...(ing.tls ? { tls: [{ hosts: [ing.host], secretName: typeof ing.tls === 'string' ? ing.tls : `${appName}-tls` }] } : {}),
            rules: [
              {
                host: ing.host,
                http: {
                  paths: [{ path: ing.path, pathType: 'Prefix', backend: { service: { name: appName, port: { name: backendPort } } } }],
                },
              },
            ],
          },
        }
      : undefined;

  return {
    workload,
    configMap,
    ...(service ? { service } : {}),
    ...(headlessService ? { headlessService } : {}),
    ...(ingress ? { ingress } : {}),
  };
}
