/** Shared by the alerts end-to-end tests: config, workloads in the emulator, and waits on what reached Slack. */
import type { KubeEmulator } from '../support/kube/index.js';
import type { SlackEmulator, StoredMessage } from '../support/slack/index.js';

export const ONCALL = 'C0ONCALL';

/** beta and prod watched by one rule posting to C0ONCALL; C0ONCALL may run every verb in beta. */
export const alertConfig =
  (opts: { pendingFor?: string; recoverAfter?: string; on?: string[] } = {}) =>
  (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
  prod: { cluster: default, namespace: prod }
apps:
  # The alert buttons run verbs, which act only on configured apps.
  crashy: { image: registry.example.com/team/crashy }
channels:
  ${ONCALL}: { environments: [beta], commands: ["*"] }
alerts:
  - environments: [beta, prod]
    channel: ${ONCALL}
    on: [${(opts.on ?? ['OOMKilled', 'Unschedulable', 'CrashLoopBackOff', 'ImagePullBackOff']).join(', ')}]
    pendingFor: ${opts.pendingFor ?? '300ms'}
    recoverAfter: ${opts.recoverAfter ?? opts.pendingFor ?? '300ms'}
`;

/** The image the fixtures give a workload, unless told otherwise. */
export const IMAGE = (name: string, tag = '1.0.0') => `registry.example.com/team/${name}:${tag}`;

export interface WorkloadOptions {
  replicas?: number;
  progressDeadlineSeconds?: number;
  image?: string;
  requests?: { cpu?: string; memory?: string };
  limits?: { cpu?: string; memory?: string };
  nodeSelector?: Record<string, string>;
}

/** A Deployment as `kubectl create` would send it; the emulator's controller makes its ReplicaSet and pods. */
export function deployment(namespace: string, name: string, o: WorkloadOptions = {}): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: o.replicas ?? 1,
      ...(o.progressDeadlineSeconds ? { progressDeadlineSeconds: o.progressDeadlineSeconds } : {}),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'app',
              image: o.image ?? IMAGE(name),
              resources: { requests: o.requests ?? { cpu: '10m', memory: '16Mi' }, ...(o.limits ? { limits: o.limits } : {}) },
            },
          ],
          ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
        },
      },
    },
  };
}

export function podsOf(kube: KubeEmulator, namespace: string, app: string): any[] {
  return kube.list('v1', 'Pod', namespace).filter((p) => p.metadata.labels?.app === app && !p.metadata.deletionTimestamp);
}

const ready = (p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');

/** Creates the Deployment and resolves with its pods once all are ready. */
export async function runningDeployment(kube: KubeEmulator, namespace: string, name: string, o: WorkloadOptions = {}): Promise<any[]> {
  kube.create(deployment(namespace, name, o));
  const want = o.replicas ?? 1;
  return kube.waitFor(
    () => {
      const pods = podsOf(kube, namespace, name);
      return pods.length === want && pods.every(ready) ? pods : undefined;
    },
    10_000,
    `${want} ready pods of ${namespace}/${name}`,
  );
}

/** Resolves once the bot's pod watch on the namespace is open (checked again on every change in the cluster). */
export function botWatches(kube: KubeEmulator, namespace: string): Promise<unknown> {
  return kube.waitFor(
    () => kube.requests.some((r) => r.path === `/api/v1/namespaces/${namespace}/pods` && ['true', '1'].includes(String(r.query.watch))),
    10_000,
    `the bot watching pods in ${namespace}`,
  );
}

/** Top-level messages in the on-call channel whose text matches. */
export function alertsMatching(slack: SlackEmulator, match: RegExp, channel = ONCALL): StoredMessage[] {
  return slack.topLevel(channel).filter((m) => match.test(m.text));
}

export async function waitForAlert(slack: SlackEmulator, match: RegExp, timeoutMs = 10_000): Promise<StoredMessage> {
  const call = await slack.waitForCall(
    (c) => c.method === 'chat.postMessage' && c.ok && !c.args.thread_ts && match.test(String(c.args.text)),
    timeoutMs,
  );
  return slack.message(call.args.channel, call.response.ts)!;
}

/** Everything a message shows: its text and its blocks, as one string to search. */
export function shown(m: StoredMessage | undefined): string {
  return m ? `${m.text}\n${JSON.stringify(m.blocks ?? [])}` : '';
}

export async function waitForThreadReply(
  slack: SlackEmulator,
  ts: string,
  match: RegExp,
  timeoutMs = 10_000,
  channel = ONCALL,
): Promise<StoredMessage> {
  const call = await slack.waitForCall(
    (c) =>
      c.method === 'chat.postMessage' &&
      c.ok &&
      c.args.thread_ts === ts &&
      c.args.channel === channel &&
      match.test(shown({ text: String(c.args.text), blocks: c.args.blocks } as StoredMessage)),
    timeoutMs,
  );
  return slack.message(channel, call.response.ts)!;
}

/** Resolves once the top-level message's latest version matches. */
export async function waitForUpdate(
  slack: SlackEmulator,
  ts: string,
  match: RegExp,
  timeoutMs = 10_000,
  channel = ONCALL,
): Promise<StoredMessage> {
  await slack.waitForCall(
    (c) =>
      c.method === 'chat.update' &&
      c.ok &&
      c.args.ts === ts &&
      match.test(shown({ text: String(c.args.text), blocks: c.args.blocks } as StoredMessage)),
    timeoutMs,
  );
  return slack.message(channel, ts)!;
}
