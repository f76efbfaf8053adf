import { describe, expect, it } from 'vitest';
import { incidentId } from '../../src/alerts/incidents.js';
import { clusterNameOf, silencedIncidents } from '../../src/alerts/silences.js';
import { parseConfig } from '../../src/config/load.js';

const config = parseConfig(
  `
clusters: { eu: { context: eu } }
environments:
  beta: { namespace: beta-ns }
  prod: { cluster: eu, namespace: prod-ns }
apps:
  web: { image: r/web, kind: StatefulSet }
  legacy: { image: r/legacy, workload: { kind: Deployment, name: legacy-web, container: web } }
alerts:
  - { environments: [beta, prod], channel: C0ONE, on: [OOMKilled, NodePressure] }
  - { environments: [prod], channel: C0TWO, on: [OOMKilled, NodeNotReady] }
`,
  'test.yaml',
);

describe('what a silence covers', () => {
  it('is the incident of every channel that gets the kind for the environment, keyed as the watcher keys it', () => {
    const { workload, ids } = silencedIncidents(config, 'web', 'prod', 'OOMKilled');
    expect(workload).toEqual({ kind: 'StatefulSet', name: 'web' });
    const key = (channel: string) =>
      incidentId({
        channel,
        cluster: 'eu',
        namespace: 'prod-ns',
        env: 'prod',
        workload: { kind: 'StatefulSet', name: 'web' },
        kind: 'OOMKilled',
      });
    expect(ids).toEqual([key('C0ONE'), key('C0TWO')]);
    expect(silencedIncidents(config, 'web', 'beta', 'OOMKilled').ids).toHaveLength(1);
    expect(silencedIncidents(config, 'web', 'beta', 'Unschedulable').ids).toEqual([]);
  });

  it("uses an adopted app's workload, and one incident per pressure condition of a node", () => {
    expect(silencedIncidents(config, 'legacy', 'beta', 'OOMKilled').workload).toEqual({ kind: 'Deployment', name: 'legacy-web' });
    const node = silencedIncidents(config, 'node-1', 'beta', 'NodePressure');
    expect(node.workload).toEqual({ kind: 'Node', name: 'node-1' });
    expect(node.ids).toContain(
      incidentId({
        channel: 'C0ONE',
        cluster: clusterNameOf(config, 'beta'),
        namespace: '',
        env: 'anything',
        workload: { kind: 'Node', name: 'node-1' },
        kind: 'NodePressure',
        condition: 'DiskPressure',
      }),
    );
    expect(node.ids).toHaveLength(3);
  });

  it("covers a node's alert in each channel routed it in the node's cluster whose rule has an environment the silencer may touch", () => {
    // C0TWO's rule is for prod only: a channel bound to beta may not silence it there, one bound to prod may.
    expect(silencedIncidents(config, 'node-1', 'prod', 'NodeNotReady', ['beta'])).toMatchObject({
      ids: [],
      channels: [],
      outside: [{ channel: 'C0TWO', environments: ['prod'] }],
    });
    expect(silencedIncidents(config, 'node-1', 'prod', 'NodeNotReady', ['prod'])).toMatchObject({
      channels: ['C0TWO'],
      environments: ['prod'],
    });
    // A node of beta's cluster: C0ONE's rule reaches it through beta only (prod is another cluster).
    expect(silencedIncidents(config, 'node-1', 'beta', 'NodePressure', ['prod'])).toMatchObject({
      channels: [],
      outside: [{ channel: 'C0ONE', environments: ['beta'] }],
    });
    // An app's silence is the environment's alone; nothing is "left out".
    expect(silencedIncidents(config, 'web', 'prod', 'OOMKilled', ['beta', 'prod'])).toMatchObject({
      channels: ['C0ONE', 'C0TWO'],
      outside: [],
    });
  });
});
