/**
 * ServiceAccounts as a cluster keeps them: the serviceaccounts controller makes `default` in every namespace, and the
 * ServiceAccount admission plugin refuses a pod whose service account does not exist (403, before validation).
 * Checked against kubernetes plugin/pkg/admission/serviceaccount/admission.go (getServiceAccount's NotFound,
 * "error looking up service account ns/name: ...") and admission.NewForbidden (the generateName when there is no name).
 */
import { mustResource } from './resources.js';
import { ApiError } from './status.js';
import type { Store } from './store.js';

export const SERVICE_ACCOUNT = mustResource('v1', 'ServiceAccount');
const DEFAULT = 'default';

/**
 * The `default` ServiceAccount of a new namespace. The real controller makes it a moment later, and the admission
 * plugin retries a lookup of `default` until then, so a pod created at once still gets in: made here at once.
 */
export function ensureDefaultServiceAccount(store: Store, namespace: string): void {
  if (store.get(SERVICE_ACCOUNT, namespace, DEFAULT)) return;
  store.create(SERVICE_ACCOUNT, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT, namespace } });
}

/**
 * The admission plugin's refusal of a pod create, or undefined when its service account exists. `pod` as sent:
 * a pod with only a generateName is named by it in the message (its name is not generated yet).
 */
export function serviceAccountRefusal(store: Store, namespace: string, pod: any): ApiError | undefined {
  const account: string = pod?.spec?.serviceAccountName || pod?.spec?.serviceAccount || DEFAULT;
  if (store.get(SERVICE_ACCOUNT, namespace, account)) return undefined;
  const name: string = pod?.metadata?.name || pod?.metadata?.generateName || 'Unknown';
  return new ApiError(
    403,
    'Forbidden',
    `pods "${name}" is forbidden: error looking up service account ${namespace}/${account}: serviceaccount "${account}" not found`,
    { name, kind: 'pods' },
  );
}
