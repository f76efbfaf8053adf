/**
 * /openapi/v3: enough for kubectl. Its validation looks for a `fieldValidation` query parameter on each kind's PATCH
 * operation and, finding it, leaves validation to the server (?fieldValidation=Strict); the PATCH operations carry
 * no request body, so client-side apply computes its strategic merge patches from kubectl's built-in types.
 * /openapi/v2 is not served (kubectl only needs it when v3 is missing).
 */
import { fnv32a } from './hash.js';
import { GROUP_VERSIONS, RESOURCES, type ResourceDef } from './resources.js';

const QUERY = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'].map((name) => ({
  name,
  in: 'query',
  schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
}));

function gvPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `apis/${apiVersion}` : `api/${apiVersion}`;
}

function gvDoc(apiVersion: string): object {
  const paths: Record<string, object> = {};
  for (const r of RESOURCES.filter((x: ResourceDef) => x.apiVersion === apiVersion && !x.virtual)) {
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const item = r.namespaced
      ? `/${gvPath(apiVersion)}/namespaces/{namespace}/${r.plural}/{name}`
      : `/${gvPath(apiVersion)}/${r.plural}/{name}`;
    paths[item] = {
      patch: {
        description: `partially update the specified ${r.kind}`,
        operationId: `patch${r.kind}`,
        parameters: QUERY,
        responses: { '200': { description: 'OK' } },
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk,
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.31.0' }, paths, components: { schemas: {} } };
}

/** The document at `path` (a /openapi/... path), or undefined for 404. */
export function openapiDocument(path: string): object | undefined {
  if (path === '/openapi/v3') {
    const paths: Record<string, object> = {};
    for (const gv of GROUP_VERSIONS) {
      const doc = JSON.stringify(gvDoc(gv));
      paths[gvPath(gv)] = { serverRelativeURL: `/openapi/v3/${gvPath(gv)}?hash=${fnv32a(doc).toString(16).toUpperCase()}` };
    }
    return { paths };
  }
  const m = /^\/openapi\/v3\/(api\/v1|apis\/[^/]+\/[^/]+)$/.exec(path);
  if (!m) return undefined;
  const apiVersion = m[1] === 'api/v1' ? 'v1' : m[1]!.slice('apis/'.length);
  return GROUP_VERSIONS.includes(apiVersion) ? gvDoc(apiVersion) : undefined;
}
