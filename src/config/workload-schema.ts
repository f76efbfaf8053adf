/**
 * The parts of an app's config that say what runs: an adopted workload
 * (`workload`), or the template fields of a rendered one. Kept apart from
 * schema.ts so the template can grow without touching the rest.
 */
import { z } from 'zod';
import { parseQuantity } from '../kube/capacity.js';
import { labelKeyProblem, labelValueProblem } from '../kube/labels.js';

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** DNS-1035 label: what Kubernetes accepts as a Service name (starts with a letter). */
export const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const objectName = z.string().max(253).regex(DNS1123_SUBDOMAIN, 'must be a Kubernetes object name: lowercase letters, digits, "-" and "."');
const containerName = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label (a container name)');
const portNumber = z.number().int().min(1).max(65535);
/** IANA_SVC_NAME, as Kubernetes checks a port name. */
const portName = z
  .string()
  .max(15, 'a port name is at most 15 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a port name is lowercase letters, digits and "-"')
  .refine((s) => /[a-z]/.test(s) && !s.includes('--'), 'a port name has at least one letter and no "--"');
const intOrPercent = z.union([z.number().int().min(0), z.string().regex(/^\d{1,3}%$/, 'a number or a percentage like 25%')]);

/** A quantity Kubernetes accepts, parsed with client-node's helper at start-up ("lots" stops start-up). */
export const quantity = z
  .union([z.string(), z.number()])
  .transform(String)
  .refine((q) => {
    try {
      parseQuantity(q);
      return true;
    } catch {
      return false;
    }
  }, 'must be a Kubernetes quantity, e.g. 100m, 0.5, 128Mi or 1Gi');

function stringMap(what: 'label' | 'annotation') {
  return z.record(z.string(), z.string()).superRefine((map, ctx) => {
    for (const [key, value] of Object.entries(map)) {
      const problem = labelKeyProblem(key) ?? (what === 'label' ? labelValueProblem(value) : undefined);
      if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem.replace(/^label/, what) });
    }
  });
}

const probeTimings = {
  initialDelaySeconds: z
    .number()
    .int()
    .min(0)
    .max(3600)
    .optional()
    .describe('delay before the first readiness/liveness probe (default 0: the startup probe covers start-up)'),
  periodSeconds: z.number().int().min(1).max(300).optional().describe('seconds between probes (default 10)'),
  timeoutSeconds: z.number().int().min(1).max(60).optional().describe('seconds a probe may take (default 2)'),
  failureThreshold: z.number().int().min(1).max(20).optional().describe('failures in a row before not ready / restarted (default 3)'),
  startupSeconds: z
    .number()
    .int()
    .min(0)
    .max(3600)
    .optional()
    .describe('how long the app may take to start before liveness counts (default 120; 0 = no startup probe)'),
};

export const healthCheckSchema = z
  .object({
    http: z
      .object({ path: z.string().startsWith('/', 'an HTTP path starts with "/"'), port: z.union([portNumber, portName]) })
      .strict()
      .optional()
      .describe('HTTP GET probe: 2xx/3xx is healthy'),
    tcp: z.union([portNumber, portName]).optional().describe('TCP probe: the port accepts a connection'),
    exec: z.array(z.string().min(1)).min(1).optional().describe('command run in the container: exit 0 is healthy'),
    liveness: z.boolean().optional().describe('also restart the container when the check keeps failing (default true)'),
    ...probeTimings,
  })
  .strict()
  .refine((h) => [h.http, h.tcp, h.exec].filter((x) => x !== undefined).length === 1, 'give exactly one of `http`, `tcp` or `exec`')
  .describe('readiness, liveness and startup probes from one check');

const toleration = z
  .object({
    key: z.string().optional(),
    operator: z.enum(['Exists', 'Equal']).optional(),
    value: z.string().optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
    tolerationSeconds: z.number().int().optional(),
  })
  .strict();

const affinity = z
  .object({
    nodeAffinity: z.record(z.string(), z.unknown()).optional(),
    podAffinity: z.record(z.string(), z.unknown()).optional(),
    podAntiAffinity: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .describe('a Kubernetes pod affinity, as in a pod spec');

const ingress = z
  .object({
    host: z
      .string()
      .max(253)
      .regex(/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/, 'must be a DNS host name like app.example.com'),
    path: z.string().startsWith('/', 'an Ingress path starts with "/"').default('/'),
    className: objectName.optional().describe("IngressClass (default: the cluster's default class)"),
    tls: z.union([z.boolean(), objectName]).optional().describe('true = TLS with Secret <app>-tls; a name = that Secret'),
    port: portName.optional().describe('Service port to route to (default `http`, else the first port)'),
  })
  .strict()
  .describe("renders an Ingress routing host/path to the app's Service");

const storage = z
  .object({
    size: quantity.describe('PersistentVolumeClaim size, e.g. 10Gi'),
    mountPath: z.string().startsWith('/', 'a mount path is absolute'),
    storageClass: objectName.optional().describe("StorageClass (default: the cluster's default)"),
  })
  .strict()
  .describe('StatefulSet only: a volume per pod (volumeClaimTemplate)');

/** Template fields of a rendered app; each can be overridden per environment. */
export const templateFields = {
  kind: z.enum(WORKLOAD_KINDS).optional().describe('what to render (default Deployment)'),
  ports: z
    .record(portName, portNumber)
    .optional()
    .describe('named container ports, e.g. { http: 8080, metrics: 9090 }; the Service exposes each'),
  healthCheck: healthCheckSchema.optional(),
  nodeSelector: stringMap('label').optional().describe('node labels the pods must run on'),
  tolerations: z.array(toleration).optional().describe('taints the pods tolerate'),
  affinity: affinity.optional(),
  spread: z.enum(['zone', 'node']).optional().describe('spread pods across zones or nodes (a topology spread constraint)'),
  command: z.array(z.string()).optional().describe("container entrypoint (replaces the image's)"),
  args: z.array(z.string()).optional().describe('container arguments'),
  labels: stringMap('label').optional().describe('extra labels on every rendered object and the pods'),
  annotations: stringMap('annotation').optional().describe('extra annotations on the pods'),
  serviceAccountName: objectName.optional().describe('service account the pods run as'),
  ingress: ingress.optional(),
  storage: storage.optional(),
  maxSurge: intOrPercent.optional().describe('rolling update: extra pods during a rollout (Deployment, DaemonSet)'),
  maxUnavailable: intOrPercent.optional().describe('rolling update: pods that may be down during a rollout (Deployment, DaemonSet)'),
  minReadySeconds: z.number().int().min(0).max(3600).optional().describe('seconds a new pod must be ready before it counts as available'),
};

/** The template field names, one list for the schema, the per-environment overrides and the renderer. */
export type TemplateKey = keyof typeof templateFields;
export const TEMPLATE_KEYS = Object.keys(templateFields) as readonly TemplateKey[];

export const workloadSchema = z
  .object({
    kind: z.enum(WORKLOAD_KINDS).describe('kind of the existing workload'),
    name: objectName.describe("its name in each environment's namespace"),
    container: containerName.describe('the container whose image `deploy` sets; nothing else is changed'),
    configMap: objectName.optional().describe('ConfigMap `config` edits (absent: `config` is refused)'),
  })
  .strict()
  .describe("adopt an existing workload instead of rendering one: deploy changes only this container's image");
