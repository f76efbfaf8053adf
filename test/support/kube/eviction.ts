/** pods/eviction (policy/v1 Eviction): the pod is deleted unless a PodDisruptionBudget covering it has no disruption left (429). */
import { deleteObject } from './operations.js';
import { podActive, podReady, resolveIntOrPercent } from './owners.js';
import { mustResource } from './resources.js';
import { labelSelectorObjectToRequirements, matchRequirements } from './selectors.js';
import { ApiError, badRequest, notFound } from './status.js';
import type { Store } from './store.js';

const POD = mustResource('v1', 'Pod');
const PDB = mustResource('policy/v1', 'PodDisruptionBudget');

function budget(store: Store, pdb: any): { desired: number; healthy: number } {
  const req = labelSelectorObjectToRequirements(pdb.spec?.selector ?? {});
  const pods = store.list(POD, pdb.metadata.namespace).filter((p) => podActive(p) && matchRequirements(req, p.metadata.labels));
  const expected = pods.length;
  const healthy = pods.filter(podReady).length;
  let desired = 0;
  if (pdb.spec?.minAvailable !== undefined) desired = resolveIntOrPercent(pdb.spec.minAvailable, expected, true);
  else if (pdb.spec?.maxUnavailable !== undefined)
    desired = Math.max(0, expected - resolveIntOrPercent(pdb.spec.maxUnavailable, expected, true));
  return { desired, healthy };
}

/** Evict `name` in `ns`; returns the Status the apiserver answers with (201). */
export function evict(store: Store, ns: string, name: string, body: any, dryRun: boolean): object {
  if (body?.kind !== undefined && body.kind !== 'Eviction')
    throw badRequest(`the kind in the data (${body.kind}) does not match the expected kind (Eviction)`);
  if (body?.metadata?.name !== undefined && body.metadata.name !== name) {
    throw badRequest(`name in URL does not match name in Eviction object`);
  }
  const pod = store.get(POD, ns, name);
  if (!pod) throw notFound(POD, name);
  // a pod that is not running (or not ready) may always go, as the real eviction REST allows
  if (podActive(pod) && podReady(pod)) {
    for (const pdb of store.list(PDB, ns)) {
      const req = labelSelectorObjectToRequirements(pdb.spec?.selector ?? {});
      if (!pdb.spec?.selector || !matchRequirements(req, pod.metadata.labels)) continue;
      const { desired, healthy } = budget(store, pdb);
      if (healthy - desired <= 0) {
        throw new ApiError(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
          causes: [
            {
              reason: 'DisruptionBudget',
              message: `The disruption budget ${pdb.metadata.name} needs ${desired} healthy pods and has ${healthy} currently`,
            },
          ],
        });
      }
    }
  }
  const dry = dryRun || (Array.isArray(body?.deleteOptions?.dryRun) && body.deleteOptions.dryRun.includes('All'));
  deleteObject(store, POD, ns, name, { dryRun: dry });
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
}
