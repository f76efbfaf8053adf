/** The kube emulator's controllers, scheduler and kubelet, driven through client-node: rollouts, scheduling, pod failures, deadlines, rollbacks. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiError, deployment, merge, strategic, watchUntil } from './support/kube-client.js';
import { startKubeEmulator, type KubeEmulator } from './support/kube/index.js';

let emu: KubeEmulator;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
let dir: string;
let kubeconfigPath: string;

const NAMESPACES = ['default', 'deploy', 'sched', 'fail', 'rollback', 'deadline'];

beforeAll(async () => {
  emu = await startKubeEmulator({ namespaces: NAMESPACES });
  dir = await mkdtemp(join(tmpdir(), 'kube-emu-'));
  kubeconfigPath = await emu.writeKubeconfig(join(dir, 'kubeconfig'));
  kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  kc.setCurrentContext('emulator');
  core = kc.makeApiClient(k8s.CoreV1Api);
  apps = kc.makeApiClient(k8s.AppsV1Api);
});

afterAll(async () => {
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function podsOf(ns: string, app: string): any[] {
  return emu.list('v1', 'Pod', ns).filter((p) => p.metadata.labels?.app === app);
}

describe('kube emulator controllers', () => {
  it('brings a Deployment to available through ReplicaSet and Pods (watched with client-node)', async () => {
    const done = watchUntil<k8s.V1Deployment>(
      kc,
      '/apis/apps/v1/namespaces/deploy/deployments',
      { fieldSelector: 'metadata.name=web' },
      (_t, d) => (d.status?.conditions ?? []).some((c: any) => c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable'),
    );
    const created = await apps.createNamespacedDeployment({
      namespace: 'deploy',
      body: deployment('web', 'registry.example.com/web:1.0', 3),
    });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.metadata?.generation).toBe(1);
    expect(created.spec?.strategy?.type).toBe('RollingUpdate');
    const d = await done;
    expect(d.status).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1 });
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(d.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('True');

    const rs = (await apps.listNamespacedReplicaSet({ namespace: 'deploy' })).items;
    expect(rs).toHaveLength(1);
    const hash = rs[0]!.metadata!.labels!['pod-template-hash']!;
    expect(rs[0]!.metadata!.name).toBe(`web-${hash}`);
    expect(rs[0]!.metadata!.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'web', controller: true });

    const pods = (await core.listNamespacedPod({ namespace: 'deploy', labelSelector: 'app=web,pod-template-hash in (' + hash + ')' }))
      .items;
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.metadata?.name).toMatch(new RegExp(`^web-${hash}-[a-z0-9]{5}$`));
      expect(p.status?.phase).toBe('Running');
      expect(p.spec?.nodeName).toMatch(/^node-\d$/);
      expect(p.status?.containerStatuses?.[0]?.ready).toBe(true);
    }
    const onNode = await core.listNamespacedPod({ namespace: 'deploy', fieldSelector: `spec.nodeName=${pods[0]!.spec!.nodeName}` });
    expect(onNode.items.every((p) => p.spec?.nodeName === pods[0]!.spec!.nodeName)).toBe(true);

    // logs: default lines, tailLines, timestamps
    const log = await core.readNamespacedPodLog({ namespace: 'deploy', name: pods[0]!.metadata!.name!, container: 'app' });
    expect(log).toContain('starting app on :8080');
    const tail = await core.readNamespacedPodLog({ namespace: 'deploy', name: pods[0]!.metadata!.name!, tailLines: 2 });
    expect(tail.trimEnd().split('\n')).toHaveLength(2);
    const ts = await core.readNamespacedPodLog({ namespace: 'deploy', name: pods[0]!.metadata!.name!, tailLines: 1, timestamps: true });
    expect(ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z \S/);

    // events the controllers and kubelet record
    const events = (
      await core.listNamespacedEvent({ namespace: 'deploy', fieldSelector: `involvedObject.name=${pods[0]!.metadata!.name}` })
    ).items;
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['Scheduled', 'Pulled', 'Created', 'Started']));
    expect(events[0]!.involvedObject).toMatchObject({ kind: 'Pod', namespace: 'deploy', uid: pods[0]!.metadata!.uid });

    // scale subresource, then the ReplicaSet follows
    const scale = await apps.readNamespacedDeploymentScale({ namespace: 'deploy', name: 'web' });
    expect(scale).toMatchObject({ spec: { replicas: 3 }, status: { replicas: 3, selector: 'app=web' } });
    await apps.patchNamespacedDeploymentScale({ namespace: 'deploy', name: 'web', body: { spec: { replicas: 1 } } }, merge);
    await emu.waitFor(
      () => podsOf('deploy', 'web').length === 1 && emu.get('apps/v1', 'Deployment', 'deploy', 'web')?.status?.replicas === 1,
      3000,
      'scale down',
    );
    expect(emu.get('apps/v1', 'Deployment', 'deploy', 'web').metadata.generation).toBe(2);

    // deleting the Deployment collects its ReplicaSets and Pods
    await apps.deleteNamespacedDeployment({ namespace: 'deploy', name: 'web' });
    await emu.waitFor(
      () => emu.list('apps/v1', 'ReplicaSet', 'deploy').length === 0 && emu.list('v1', 'Pod', 'deploy').length === 0,
      3000,
      'garbage collection',
    );
  });

  it('leaves unschedulable pods Pending with the scheduler sentence, and schedules them when capacity appears', async () => {
    const big = deployment('big', 'registry.example.com/big:1', 1);
    big.spec!.template.spec!.containers[0]!.resources = { requests: { cpu: '100m', memory: '64Gi' } };
    await apps.createNamespacedDeployment({ namespace: 'sched', body: big });
    const ev = await watchUntil<k8s.CoreV1Event>(
      kc,
      '/api/v1/namespaces/sched/events',
      { fieldSelector: 'reason=FailedScheduling' },
      () => true,
    );
    expect(ev.type).toBe('Warning');
    expect(ev.message).toBe(
      '0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    );
    const pod = podsOf('sched', 'big')[0];
    expect(pod.status.phase).toBe('Pending');
    expect(pod.status.conditions.find((c: any) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    expect(ev.involvedObject).toMatchObject({ kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid });

    const picky = deployment('picky', 'registry.example.com/picky:1', 1, { nodeSelector: { disktype: 'ssd' } });
    await apps.createNamespacedDeployment({ namespace: 'sched', body: picky });
    const ev2 = await watchUntil<k8s.CoreV1Event>(
      kc,
      '/api/v1/namespaces/sched/events',
      { fieldSelector: 'reason=FailedScheduling' },
      (_t, e) => e.message.includes('selector'),
    );
    expect(ev2.message).toBe(
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );

    emu.addNode('node-big', { cpu: '16', memory: '128Gi', labels: { disktype: 'ssd' } });
    await emu.waitFor(
      () => podsOf('sched', 'big')[0]?.spec.nodeName === 'node-big' && podsOf('sched', 'picky')[0]?.spec.nodeName === 'node-big',
      3000,
      'rescheduling',
    );
    await emu.waitFor(() => emu.get('apps/v1', 'Deployment', 'sched', 'big')?.status?.availableReplicas === 1, 3000, 'big available');
  });

  it('plays image pull failures, crash loops and OOM kills', async () => {
    emu.setImageBehavior('registry.example.com/broken:v9', { kind: 'imagePullFailure' });
    emu.setImageBehavior('registry.example.com/crash:1', { kind: 'crashLoop', exitCode: 2, logLines: ['boot', 'panic: config missing'] });
    emu.setImageBehavior('registry.example.com/hog:1', { kind: 'oomKilled' });
    await apps.createNamespacedDeployment({ namespace: 'fail', body: deployment('broken', 'registry.example.com/broken:v9', 1) });
    await apps.createNamespacedDeployment({ namespace: 'fail', body: deployment('crash', 'registry.example.com/crash:1', 1) });
    await apps.createNamespacedDeployment({ namespace: 'fail', body: deployment('hog', 'registry.example.com/hog:1', 1) });
    await apps.createNamespacedDeployment({ namespace: 'fail', body: deployment('fine', 'registry.example.com/fine:1', 1) });

    const status = (app: string): any => podsOf('fail', app)[0]?.status?.containerStatuses?.[0];
    const pull = await emu.waitFor(
      () => status('broken')?.state?.waiting?.reason === 'ImagePullBackOff' && status('broken'),
      3000,
      'ImagePullBackOff',
    );
    expect(pull.state.waiting.message).toBe('Back-off pulling image "registry.example.com/broken:v9"');
    expect(podsOf('fail', 'broken')[0].status.phase).toBe('Pending');
    const pullEvents = (
      await core.listNamespacedEvent({
        namespace: 'fail',
        fieldSelector: `involvedObject.name=${podsOf('fail', 'broken')[0].metadata.name},reason=Failed`,
      })
    ).items;
    expect(pullEvents.map((e) => e.message)).toContain(
      'Failed to pull image "registry.example.com/broken:v9": rpc error: code = NotFound desc = failed to pull and unpack image "registry.example.com/broken:v9": failed to resolve reference "registry.example.com/broken:v9": registry.example.com/broken:v9: not found',
    );
    const waitingLog = await apiError(core.readNamespacedPodLog({ namespace: 'fail', name: podsOf('fail', 'broken')[0].metadata.name }));
    expect(waitingLog.code).toBe(400);
    expect(waitingLog.body.message).toContain('is waiting to start: trying and failing to pull image');

    const crash = await emu.waitFor(
      () => status('crash')?.restartCount >= 2 && status('crash').state.waiting?.reason === 'CrashLoopBackOff' && status('crash'),
      5000,
      'CrashLoopBackOff',
    );
    expect(crash.lastState.terminated).toMatchObject({ reason: 'Error', exitCode: 2 });
    expect(crash.state.waiting.message).toMatch(/^back-off \d+s restarting failed container=app pod=crash-\w+-\w+_fail\(/);
    const crashPod = podsOf('fail', 'crash')[0].metadata.name;
    expect(await core.readNamespacedPodLog({ namespace: 'fail', name: crashPod, previous: true })).toBe('boot\npanic: config missing\n');
    expect(await core.readNamespacedPodLog({ namespace: 'fail', name: crashPod, tailLines: 1 })).toBe('panic: config missing\n');
    const backoff = (await core.listNamespacedEvent({ namespace: 'fail', fieldSelector: `involvedObject.name=${crashPod},reason=BackOff` }))
      .items[0];
    expect(backoff?.type).toBe('Warning');
    expect(backoff?.message).toMatch(/^Back-off restarting failed container app in pod crash-/);

    const hog = await emu.waitFor(() => status('hog')?.lastState?.terminated?.reason === 'OOMKilled' && status('hog'), 3000, 'OOMKilled');
    expect(hog.lastState.terminated.exitCode).toBe(137);
    expect(hog.restartCount).toBeGreaterThanOrEqual(1);

    // on-demand OOM kill of a healthy pod: terminated now, CrashLoopBackOff, then running and ready again
    await emu.waitFor(() => status('fine')?.ready === true, 3000, 'fine ready');
    const fine = podsOf('fail', 'fine')[0];
    const finePod = fine.metadata.name;
    const killed = watchUntil<k8s.V1Pod>(
      kc,
      '/api/v1/namespaces/fail/pods',
      { fieldSelector: `metadata.name=${finePod}`, resourceVersion: fine.metadata.resourceVersion },
      (t, p) => t === 'MODIFIED' && p.status?.containerStatuses?.[0]?.state?.terminated,
    );
    emu.oomKill('fail', finePod);
    const k = await killed;
    expect(k.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
    const back = await emu.waitFor(() => status('fine')?.ready === true && status('fine'), 3000, 'ready after OOM kill');
    expect(back.restartCount).toBe(1);
    expect(back.lastState.terminated).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
  });

  it('reports ProgressDeadlineExceeded in real time', async () => {
    emu.setImageBehavior('registry.example.com/never:1', { kind: 'imagePullFailure' });
    const d = deployment('slow', 'registry.example.com/never:1', 1);
    d.spec!.progressDeadlineSeconds = 1;
    await apps.createNamespacedDeployment({ namespace: 'deadline', body: d });
    const failed = await watchUntil<k8s.V1Deployment>(
      kc,
      '/apis/apps/v1/namespaces/deadline/deployments',
      { fieldSelector: 'metadata.name=slow' },
      (_t, o) => (o.status?.conditions ?? []).some((c: any) => c.type === 'Progressing' && c.status === 'False'),
      3000,
    );
    expect(failed.status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({
      reason: 'ProgressDeadlineExceeded',
      message: expect.stringMatching(/^ReplicaSet "slow-\w+" has timed out progressing\.$/),
    });
  });

  it('rolls back by reusing the old ReplicaSet with a bumped revision', async () => {
    const rsOf = (): any[] => emu.list('apps/v1', 'ReplicaSet', 'rollback');
    const settled = (image: string) => () => {
      const d = emu.get('apps/v1', 'Deployment', 'rollback', 'app');
      return (
        d?.spec.template.spec.containers[0].image === image &&
        d.status?.updatedReplicas === 2 &&
        d.status?.availableReplicas === 2 &&
        d.status?.replicas === 2 &&
        d.status?.observedGeneration === d.metadata.generation &&
        podsOf('rollback', 'app').length === 2 &&
        d
      );
    };
    await apps.createNamespacedDeployment({ namespace: 'rollback', body: deployment('app', 'registry.example.com/app:v1') });
    await emu.waitFor(settled('registry.example.com/app:v1'), 3000, 'v1');
    await apps.patchNamespacedDeployment(
      {
        namespace: 'rollback',
        name: 'app',
        body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.example.com/app:v2' }] } } } },
      },
      strategic,
    );
    await emu.waitFor(settled('registry.example.com/app:v2'), 3000, 'v2');
    expect(rsOf()).toHaveLength(2);
    const v1 = rsOf().find((rs) => rs.spec.template.spec.containers[0].image.endsWith(':v1'));
    expect(v1.spec.replicas).toBe(0);
    expect(v1.metadata.annotations['deployment.kubernetes.io/revision']).toBe('1');

    // what `kubectl rollout undo` does: copy the old template (minus pod-template-hash) into the Deployment
    const template = structuredClone(v1.spec.template);
    delete template.metadata.labels['pod-template-hash'];
    await apps.patchNamespacedDeployment({
      namespace: 'rollback',
      name: 'app',
      body: [{ op: 'replace', path: '/spec/template', value: template }],
    });
    const d = await emu.waitFor(settled('registry.example.com/app:v1'), 3000, 'rolled back');
    expect(rsOf()).toHaveLength(2);
    const reused = rsOf().find((rs) => rs.metadata.name === v1.metadata.name);
    expect(reused.metadata.annotations['deployment.kubernetes.io/revision']).toBe('3');
    expect(reused.spec.replicas).toBe(2);
    expect(d.metadata.annotations['deployment.kubernetes.io/revision']).toBe('3');
  });
});
