/** Access checks: the deny rules a test sets, and the SelfSubjectAccessReview answered from them. */

/** The user every request is made as. */
export const USER = 'emulator-user';

export interface DenyRule {
  verb: string;
  resource: string;
  namespace?: string;
  subresource?: string;
  group?: string;
  name?: string;
}

export interface AccessAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export function isDenied(denies: readonly DenyRule[], a: AccessAttributes): boolean {
  for (const r of denies) {
    let resource = r.resource;
    let sub = r.subresource;
    if (resource.includes('/') && sub === undefined) [resource, sub] = resource.split('/', 2) as [string, string];
    if (r.verb !== '*' && r.verb !== a.verb) continue;
    if (resource !== '*' && resource !== a.resource) continue;
    if (sub !== '*' && (sub ?? '') !== (a.subresource ?? '')) continue;
    if (r.namespace !== undefined && r.namespace !== a.namespace) continue;
    if (r.group !== undefined && r.group !== '*' && r.group !== a.group) continue;
    if (r.name !== undefined && r.name !== a.name) continue;
    return true;
  }
  return false;
}

/** A SelfSubjectAccessReview answered from the deny rules (everything else is allowed, as for cluster-admin). */
export function accessReview(denies: readonly DenyRule[], body: any): object {
  const ra = body?.spec?.resourceAttributes;
  let allowed = true;
  if (ra) {
    allowed = !isDenied(denies, {
      verb: ra.verb ?? '',
      group: ra.group ?? '',
      resource: ra.resource ?? '',
      subresource: ra.subresource || undefined,
      namespace: ra.namespace || undefined,
      name: ra.name || undefined,
    });
  }
  return {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: body?.spec ?? {},
    status: allowed
      ? { allowed: true, reason: `RBAC: allowed by ClusterRoleBinding "emulator" of ClusterRole "cluster-admin" to User "${USER}"` }
      : { allowed: false },
  };
}
