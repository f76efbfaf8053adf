/** client-node helpers for the kube emulator's tests: a Deployment fixture, a watch that resolves on a match, the Status of a refusal. */
import * as k8s from '@kubernetes/client-node';

export function deployment(name: string, image: string, replicas = 2, extra: Partial<k8s.V1PodSpec> = {}): k8s.V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image, resources: { requests: { cpu: '100m', memory: '128Mi' } } }], ...extra },
      },
    },
  };
}

/** Resolve with the first watched object the predicate accepts (client-node Watch; no polling). */
export function watchUntil<T = any>(
  kc: k8s.KubeConfig,
  path: string,
  query: Record<string, string>,
  pred: (type: string, obj: any) => boolean,
  timeoutMs = 4000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let ctl: AbortController | undefined;
    let settled = false;
    const timer = setTimeout(() => finish(() => reject(new Error(`watch ${path} timed out`))), timeoutMs);
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ctl?.abort();
      fn();
    };
    new k8s.Watch(kc)
      .watch(
        path,
        query,
        (type, obj) => {
          if (pred(type, obj)) finish(() => resolve(obj as T));
        },
        (err) => {
          if (!settled && err) finish(() => reject(err instanceof Error ? err : new Error(String(err))));
        },
      )
      .then((c) => {
        ctl = c;
        if (settled) c.abort();
      }, reject);
  });
}

export async function apiError(p: Promise<unknown>): Promise<{ code: number; body: any }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof k8s.ApiException) {
      // client-node 1.4 gives the Status as a JSON string
      const body = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
      return { code: err.code, body };
    }
    throw err;
  }
  throw new Error('expected an ApiException');
}

export const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
export const strategic = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
export const apply = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);
