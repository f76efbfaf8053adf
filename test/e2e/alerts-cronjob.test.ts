/** The runs of a CronJob are one workload in alerts: grouped by the Job's owner reference, by the Job's name when the Job is not known. */
import { beforeAll, describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';
import { alertConfig, alertsMatching, botWatches, IMAGE, waitForAlert, waitForThreadReply } from './alerts-fixtures.js';

const h = useHarness({ name: 'alerts-cronjob', config: alertConfig({ recoverAfter: '30s' }) });
beforeAll(async () => {
  await botWatches(h.kube, 'beta');
});

const template = (name: string) => ({
  metadata: { labels: { app: name } },
  spec: { restartPolicy: 'OnFailure', containers: [{ name: 'task', image: IMAGE(name) }] },
});

function cronJob(name: string): any {
  return h.kube.create({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: 'beta' },
    spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: template(name) } } },
  });
}

/** A run of the CronJob (a Job it owns, unless `owner` is undefined), and its running pod. */
function run(jobName: string, owner: any | undefined, createJob = true): any {
  const job = createJob
    ? h.kube.create({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: {
          name: jobName,
          namespace: 'beta',
          ...(owner
            ? {
                ownerReferences: [
                  { apiVersion: 'batch/v1', kind: 'CronJob', name: owner.metadata.name, uid: owner.metadata.uid, controller: true },
                ],
              }
            : {}),
        },
        spec: { template: template(jobName) },
      })
    : { metadata: { name: jobName, uid: `uid-${jobName}` } };
  return h.kube.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${jobName}-x7k2p`,
      namespace: 'beta',
      labels: { app: jobName },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: job.metadata.uid, controller: true }],
    },
    spec: template(jobName).spec,
  });
}

const running = (name: string) =>
  h.kube.waitFor(
    () => h.kube.get('v1', 'Pod', 'beta', name)?.status?.containerStatuses?.[0]?.state?.running,
    10_000,
    `pod ${name} running`,
  );

describe('alerts for the runs of a CronJob', () => {
  it('groups the pods of every run under the CronJob named in the Job owner reference', async () => {
    const owner = cronJob('report');
    // Not the controller's name pattern: only the owner reference says these are runs of `report`.
    const first = run('report-manual-a', owner);
    const second = run('report-manual-b', owner);
    await running(first.metadata.name);
    await running(second.metadata.name);
    h.kube.oomKill('beta', first.metadata.name);
    const alert = await waitForAlert(h.slack, /OOMKilled · cronjob report · beta/i);
    h.kube.oomKill('beta', second.metadata.name);
    await waitForThreadReply(h.slack, alert.ts, new RegExp(`Again: OOMKilled in pod \`${second.metadata.name}\` — 2 in total`));
    expect(alertsMatching(h.slack, /report-manual/)).toHaveLength(0);
  });

  it('falls back to the CronJob controller naming `<cronjob>-<minute>` when the Job is not known, and leaves a plain Job alone', async () => {
    const orphan = run('nightly-29412345', undefined, false);
    const plain = run('migrate-29412345', undefined);
    await running(orphan.metadata.name);
    await running(plain.metadata.name);
    h.kube.oomKill('beta', orphan.metadata.name);
    await waitForAlert(h.slack, /OOMKilled · cronjob nightly · beta/i);
    // A Job the bot sees, with no CronJob owner, is its own workload whatever its name.
    h.kube.oomKill('beta', plain.metadata.name);
    await waitForAlert(h.slack, /OOMKilled · job migrate-29412345 · beta/i);
  });
});
