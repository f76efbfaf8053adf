import type { CoreV1Event, V1Container, V1EnvVar, V1PodSpec, V1Probe } from '@kubernetes/client-node';

/** What `describe` shows of a value it must not show. */
export const MASKED = '••••••';

/** One container of a pod template, as `describe` shows it: plain strings, secrets masked. */
export interface ContainerSummary {
  name: string;
  /** init container or sidecar (an init container that keeps running). */
  role: 'app' | 'init';
  image: string;
  command?: string;
  args?: string;
  env: string[];
  envFrom: string[];
  resources: string;
  probes: string[];
  ports: string[];
  mounts: string[];
}

export interface PodTemplateSummary {
  containers: ContainerSummary[];
  volumes: string[];
  placement: string[];
  serviceAccount?: string;
}

/** A shell-like rendering of argv, quoting words with spaces so the reader sees the boundaries. */
function argv(words: readonly string[] | undefined): string | undefined {
  if (!words || words.length === 0) return undefined;
  return words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : JSON.stringify(w))).join(' ');
}

/**
 * An env var as `describe` shows it. Values of the app's secret keys, and any
 * value from a Secret, are never shown; other references name their source.
 */
export function envLine(env: V1EnvVar, secretKeys: readonly string[]): string {
  const from = env.valueFrom;
  if (from?.secretKeyRef) return `${env.name} ← secret ${from.secretKeyRef.name ?? '?'}/${from.secretKeyRef.key}`;
  if (from?.configMapKeyRef) return `${env.name} ← configmap ${from.configMapKeyRef.name ?? '?'}/${from.configMapKeyRef.key}`;
  if (from?.fieldRef) return `${env.name} ← field ${from.fieldRef.fieldPath}`;
  if (from?.resourceFieldRef) return `${env.name} ← resource ${from.resourceFieldRef.resource}`;
  if (secretKeys.includes(env.name) || looksSecret(env.name)) return `${env.name}=${MASKED}`;
  return `${env.name}=${env.value ?? ''}`;
}

/** Names that hold credentials by convention are masked even when not listed in secretKeys. */
function looksSecret(name: string): boolean {
  return /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)$/i.test(name);
}

export function probeLine(kind: string, probe: V1Probe | undefined): string | undefined {
  if (!probe) return undefined;
  const how = probe.httpGet
    ? `http-get ${probe.httpGet.scheme === 'HTTPS' ? 'https' : 'http'}://:${String(probe.httpGet.port)}${probe.httpGet.path ?? '/'}`
    : probe.tcpSocket
      ? `tcp-socket :${String(probe.tcpSocket.port)}`
      : probe.exec
        ? `exec ${argv(probe.exec.command) ?? '?'}`
        : probe.grpc
          ? `grpc :${probe.grpc.port}`
          : 'unknown';
  const timing = [
    `delay=${probe.initialDelaySeconds ?? 0}s`,
    `timeout=${probe.timeoutSeconds ?? 1}s`,
    `period=${probe.periodSeconds ?? 10}s`,
    `#success=${probe.successThreshold ?? 1}`,
    `#failure=${probe.failureThreshold ?? 3}`,
  ].join(' ');
  return `${kind}: ${how} ${timing}`;
}

function resourcesLine(c: V1Container): string {
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  const part = (label: string, q: Record<string, string>) => {
    const entries = Object.entries(q);
    return entries.length ? `${label} ${entries.map(([k, v]) => `${k}=${v}`).join(', ')}` : undefined;
  };
  return [part('requests', req), part('limits', lim)].filter(Boolean).join('; ') || 'none set (BestEffort)';
}

function summarizeContainer(c: V1Container, role: ContainerSummary['role'], secretKeys: readonly string[]): ContainerSummary {
  const command = argv(c.command);
  const args = argv(c.args);
  return {
    name: c.name,
    role,
    image: c.image ?? '?',
    ...(command ? { command } : {}),
    ...(args ? { args } : {}),
    env: (c.env ?? []).map((e) => envLine(e, secretKeys)),
    envFrom: (c.envFrom ?? []).map((e) =>
      e.secretRef
        ? `all keys of secret ${e.secretRef.name ?? '?'}${e.prefix ? ` (prefix ${e.prefix})` : ''}`
        : `all keys of configmap ${e.configMapRef?.name ?? '?'}${e.prefix ? ` (prefix ${e.prefix})` : ''}`,
    ),
    resources: resourcesLine(c),
    probes: [probeLine('startup', c.startupProbe), probeLine('readiness', c.readinessProbe), probeLine('liveness', c.livenessProbe)].filter(
      (p): p is string => p !== undefined,
    ),
    ports: (c.ports ?? []).map((p) => `${p.name ? `${p.name} ` : ''}${p.containerPort}/${p.protocol ?? 'TCP'}`),
    mounts: (c.volumeMounts ?? []).map(
      (m) => `${m.mountPath} ← ${m.name}${m.readOnly ? ' (ro)' : ''}${m.subPath ? ` subPath ${m.subPath}` : ''}`,
    ),
  };
}

/** What a pod template runs and why, with secrets masked: the body of `describe`. */
export function summarizePodSpec(spec: V1PodSpec | undefined, secretKeys: readonly string[]): PodTemplateSummary {
  if (!spec) return { containers: [], volumes: [], placement: [] };
  const volumes = (spec.volumes ?? []).map((v) => {
    const source = v.configMap
      ? `configmap ${v.configMap.name ?? '?'}`
      : v.secret
        ? `secret ${v.secret.secretName ?? '?'}`
        : v.persistentVolumeClaim
          ? `pvc ${v.persistentVolumeClaim.claimName}`
          : v.emptyDir
            ? `emptyDir${v.emptyDir.medium ? ` (${v.emptyDir.medium})` : ''}`
            : v.hostPath
              ? `hostPath ${v.hostPath.path}`
              : v.projected
                ? 'projected'
                : v.downwardAPI
                  ? 'downwardAPI'
                  : 'other';
    return `${v.name}: ${source}`;
  });
  const placement = [
    ...Object.entries(spec.nodeSelector ?? {}).map(([k, v]) => `nodeSelector ${k}=${v}`),
    ...(spec.tolerations ?? []).map(
      (t) => `toleration ${t.key ?? '*'}${t.operator === 'Exists' ? ' exists' : `=${t.value ?? ''}`}${t.effect ? `:${t.effect}` : ''}`,
    ),
    ...(spec.affinity?.nodeAffinity ? ['node affinity rules'] : []),
    ...(spec.affinity?.podAffinity ? ['pod affinity rules'] : []),
    ...(spec.affinity?.podAntiAffinity ? ['pod anti-affinity rules'] : []),
    ...(spec.topologySpreadConstraints ?? []).map((t) => `spread over ${t.topologyKey} (max skew ${t.maxSkew}, ${t.whenUnsatisfiable})`),
  ];
  return {
    containers: [
      ...(spec.initContainers ?? []).map((c) => summarizeContainer(c, 'init', secretKeys)),
      ...spec.containers.map((c) => summarizeContainer(c, 'app', secretKeys)),
    ],
    volumes,
    placement,
    ...(spec.serviceAccountName ? { serviceAccount: spec.serviceAccountName } : {}),
  };
}

/** Events of one reason, merged across the objects they were about. */
export interface EventGroup {
  reason: string;
  type: 'Normal' | 'Warning';
  count: number;
  lastSeen: number;
  /** Kind/name of each object, most recent first. */
  objects: string[];
  /** The most recent message. */
  message: string;
}

/** When an event last happened: series, lastTimestamp, eventTime, then creation (as kubectl picks it). */
export function eventLastSeen(e: CoreV1Event): number {
  const t = e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return t ? new Date(t as Date | string).getTime() : 0;
}

function eventCount(e: CoreV1Event): number {
  return e.series?.count ?? e.count ?? 1;
}

/**
 * Groups events by type and reason with their total count, last time and the
 * latest message, newest group first. `since` drops events last seen before it.
 */
export function groupEvents(events: readonly CoreV1Event[], options: { since?: number; warningsOnly?: boolean } = {}): EventGroup[] {
  const groups = new Map<string, EventGroup>();
  const sorted = [...events].sort((a, b) => eventLastSeen(b) - eventLastSeen(a));
  for (const e of sorted) {
    const seen = eventLastSeen(e);
    if (options.since !== undefined && seen < options.since) continue;
    const type = e.type === 'Warning' ? 'Warning' : 'Normal';
    if (options.warningsOnly && type !== 'Warning') continue;
    const reason = e.reason ?? 'Unknown';
    const key = `${type}/${reason}`;
    const object = `${e.involvedObject.kind ?? '?'}/${e.involvedObject.name ?? '?'}`;
    const group = groups.get(key);
    if (!group) {
      groups.set(key, { reason, type, count: eventCount(e), lastSeen: seen, objects: [object], message: e.message ?? '' });
      continue;
    }
    group.count += eventCount(e);
    if (!group.objects.includes(object)) group.objects.push(object);
  }
  return [...groups.values()].sort((a, b) => b.lastSeen - a.lastSeen);
}
