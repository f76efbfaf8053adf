/** The status of a pod the kubelet runs. */
import { qosClass } from './defaults.js';
import { fullImageRef, type PodRun } from './pod-runs.js';
import { nowTime } from './store.js';

/** The pod status the kubelet writes for a run: phase, conditions, IPs and container statuses (readiness moves `run.readySince`). */
export function runStatus(run: PodRun, pod: any): any {
  const now = nowTime();
  const allReady = run.containers.every((c) => c.ready);
  if (allReady !== run.wasReady) {
    run.wasReady = allReady;
    run.readySince = now;
  }
  const unready = run.containers.filter((c) => !c.ready).map((c) => c.name);
  const readyCond = (type: string): any => ({
    type,
    status: allReady ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: run.readySince,
    ...(allReady ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` }),
  });
  const phase = run.containers.every((c) => c.everRan) ? 'Running' : 'Pending';
  const status: any = {
    phase,
    conditions: [
      { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: run.startTime },
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: run.startTime },
      readyCond('Ready'),
      readyCond('ContainersReady'),
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: run.startTime },
    ],
    hostIP: run.hostIP,
    hostIPs: [{ ip: run.hostIP }],
    podIP: run.podIP,
    podIPs: [{ ip: run.podIP }],
    startTime: run.startTime,
    containerStatuses: run.containers.map((c) => ({
      name: c.name,
      state: c.state,
      lastState: c.lastState,
      ready: c.ready,
      restartCount: c.restartCount,
      image: c.image,
      imageID: c.everRan ? `${fullImageRef(c.image).replace(/:[^:/]+$/, '')}@sha256:${'0'.repeat(64)}` : '',
      ...(c.containerID ? { containerID: c.containerID } : {}),
      started: c.started,
    })),
    qosClass: pod.status?.qosClass ?? qosClass(pod.spec),
  };
  if (pod.spec?.initContainers?.length) {
    status.initContainerStatuses = pod.spec.initContainers.map((ic: any) => ({
      name: ic.name,
      state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: run.startTime, finishedAt: run.startTime } },
      lastState: {},
      ready: true,
      restartCount: 0,
      image: ic.image,
      imageID: '',
      started: false,
    }));
  }
  return status;
}

/** The status of a pod the kubelet evicted: Failed/Evicted, DisruptionTarget True, its containers killed (137). */
export function evictedStatus(pod: any, run: PodRun, message: string): any {
  const at = nowTime();
  return {
    ...pod.status,
    phase: 'Failed',
    reason: 'Evicted',
    message,
    conditions: [
      ...(pod.status?.conditions ?? []).map((c: any) =>
        c.type === 'Ready' || c.type === 'ContainersReady'
          ? { ...c, status: 'False', reason: 'PodFailed', message: undefined, lastTransitionTime: at }
          : c,
      ),
      { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message, lastProbeTime: null, lastTransitionTime: at },
    ],
    containerStatuses: run.containers.map((c) => ({
      name: c.name,
      state: { terminated: { exitCode: 137, reason: 'Error', startedAt: c.startedAt ?? at, finishedAt: at } },
      lastState: c.lastState,
      ready: false,
      restartCount: c.restartCount,
      image: c.image,
      imageID: '',
      ...(c.containerID ? { containerID: c.containerID } : {}),
      started: false,
    })),
  };
}
