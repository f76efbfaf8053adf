/**
 * Pod-template pieces of a rendered app: probes from one health check,
 * placement, ports. Pure, like render.ts, which assembles them.
 */
import type { V1Probe, V1TopologySpreadConstraint } from '@kubernetes/client-node';
import type { AppConfig } from '../config/schema.js';

export type HealthCheck = NonNullable<AppConfig['healthCheck']>;

/** Defaults close to what teams set by hand: a startup probe covers slow starts, so liveness needs no delay. */
export const PROBE_DEFAULTS = {
  periodSeconds: 10,
  timeoutSeconds: 2,
  failureThreshold: 3,
  startupSeconds: 120,
  startupPeriodSeconds: 5,
} as const;

function handler(check: HealthCheck): Pick<V1Probe, 'httpGet' | 'tcpSocket' | 'exec'> {
  if (check.http) return { httpGet: { path: check.http.path, port: check.http.port as never } };
  if (check.tcp !== undefined) return { tcpSocket: { port: check.tcp as never } };
  return { exec: { command: check.exec ?? [] } };
}

/** Readiness, liveness (unless `liveness: false`) and startup (unless `startupSeconds: 0`) probes from one check. */
export function probes(check: HealthCheck | undefined): { readinessProbe?: V1Probe; livenessProbe?: V1Probe; startupProbe?: V1Probe } {
  if (!check) return {};
  const timing = {
    ...(check.initialDelaySeconds !== undefined ? { initialDelaySeconds: check.initialDelaySeconds } : {}),
    periodSeconds: check.periodSeconds ?? PROBE_DEFAULTS.periodSeconds,
    timeoutSeconds: check.timeoutSeconds ?? PROBE_DEFAULTS.timeoutSeconds,
    failureThreshold: check.failureThreshold ?? PROBE_DEFAULTS.failureThreshold,
  };
  const action = handler(check);
  const startupSeconds = check.startupSeconds ?? PROBE_DEFAULTS.startupSeconds;
  return {
    readinessProbe: { ...action, ...timing, successThreshold: 1 },
    ...(check.liveness === false ? {} : { livenessProbe: { ...action, ...timing, successThreshold: 1 } }),
    ...(startupSeconds > 0
      ? {
          startupProbe: {
            ...action,
            periodSeconds: PROBE_DEFAULTS.startupPeriodSeconds,
            timeoutSeconds: timing.timeoutSeconds,
            successThreshold: 1,
            failureThreshold: Math.max(1, Math.ceil(startupSeconds / PROBE_DEFAULTS.startupPeriodSeconds)),
          },
        }
      : {}),
  };
}

export const TOPOLOGY_KEYS = { zone: 'topology.kubernetes.io/zone', node: 'kubernetes.io/hostname' } as const;

/** One soft constraint: spread evenly, but never block a rollout on a small cluster. */
export function spreadConstraints(
  spread: 'zone' | 'node' | undefined,
  selector: Record<string, string>,
): V1TopologySpreadConstraint[] | undefined {
  if (!spread) return undefined;
  return [
    { maxSkew: 1, topologyKey: TOPOLOGY_KEYS[spread], whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } },
  ];
}

/** Named ports: `ports`, else `port` as `http`. */
export function namedPorts(app: { port?: number | undefined; ports?: Record<string, number> | undefined }): Array<[string, number]> {
  if (app.ports && Object.keys(app.ports).length > 0) return Object.entries(app.ports);
  return app.port !== undefined ? [['http', app.port]] : [];
}
