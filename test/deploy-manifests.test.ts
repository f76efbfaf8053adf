import * as k8s from '@kubernetes/client-node';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { describe, expect, it } from 'vitest';
import { BOT_NAMESPACE, CASES, ofKind, renderEveryCase, type Manifest as Obj } from './support/kustomize.js';

/**
 * Renders every overlay and the base with each component through `kubectl kustomize`,
 * validates every object with kubernetes-models (the OpenAPI JSON Schemas of
 * Kubernetes, and the Prometheus Operator CRDs for ServiceMonitor), and rejects fields
 * Kubernetes does not know (client-node's model attribute maps). What the bot needs
 * from its pods is test/deploy-pods.test.ts; the other files under deploy/ are test/deploy-files.test.ts.
 */

const VALIDATORS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

type AttributeMap = Array<{ baseName: string; type: string }>;
const models = k8s as unknown as Record<string, { getAttributeTypeMap?: () => AttributeMap } | undefined>;

/** Fields Kubernetes would drop or refuse (typos like `readinesProbe`), by client-node's model of each type. */
function unknownFields(value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`)) : [];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return typeof value === 'object' ? Object.entries(value).flatMap(([k, v]) => unknownFields(v, map[1]!, `${path}.${k}`)) : [];
  const attributes = models[type]?.getAttributeTypeMap?.();
  if (!attributes || typeof value !== 'object') return [];
  const known = new Map(attributes.map((a) => [a.baseName, a.type]));
  return Object.entries(value).flatMap(([k, v]) => (known.has(k) ? unknownFields(v, known.get(k)!, `${path}.${k}`) : [`${path}.${k}`]));
}

function validate(obj: Obj): string[] {
  const id = `${obj.kind}/${obj.metadata?.name}`;
  const Model = VALIDATORS[`${obj.apiVersion}/${obj.kind}`];
  if (!Model) return [`${id}: no validator for ${obj.apiVersion} ${obj.kind} — add one to VALIDATORS`];
  const problems: string[] = [];
  try {
    new Model(obj).validate();
  } catch (err) {
    problems.push(`${id}: ${(err as Error).message}`);
  }
  if (obj.apiVersion.split('/').length === 1 || /^(apps|policy|rbac\.authorization\.k8s\.io|networking\.k8s\.io)\//.test(obj.apiVersion)) {
    problems.push(...unknownFields(obj, `V1${obj.kind}`, id).map((f) => `${f}: unknown field`));
  }
  return problems;
}

const rendered = renderEveryCase();

describe('kubectl kustomize', () => {
  it.each(CASES)('renders %s into valid Kubernetes objects', (name) => {
    const objs = rendered(name);
    expect(objs.length).toBeGreaterThan(0);
    expect(objs.flatMap(validate)).toEqual([]);
  });

  it('catches invalid objects and unknown fields (the validation is not a no-op)', () => {
    const deployment = structuredClone(ofKind(rendered('overlays/all-in-one'), 'Deployment')[0]!);
    deployment.spec.replicas = 'two';
    deployment.spec.template.spec.containers[0].readinesProbe = {};
    expect(validate(deployment).join('\n')).toMatch(/replicas must be integer[\s\S]*readinesProbe: unknown field/);
  });

  it("puts the bot's objects in its namespace and the managed Roles in theirs", () => {
    for (const name of CASES) {
      for (const o of rendered(name)) {
        if (['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind))
          expect(o.metadata.namespace, `${name}: ${o.kind}/${o.metadata.name}`).toBeUndefined();
        else if (o.kind === 'Role' || o.kind === 'RoleBinding') expect(o.metadata.namespace).toMatch(/^(k8s-chatops|beta)$/);
        else expect(o.metadata.namespace, `${name}: ${o.kind}/${o.metadata.name}`).toBe(BOT_NAMESPACE);
      }
    }
  });
});
