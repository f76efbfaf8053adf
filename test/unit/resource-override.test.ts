import { describe, expect, it } from 'vitest';
import {
  carriedOverride,
  describeReset,
  leftoverPatch,
  overrideAnnotations,
  overrideValues,
  readOverride,
  resetPatch,
} from '../../src/kube/workloads/resource-override.js';
import { overrideCarriedNote, overrideDeployNote, overrideStatusLine } from '../../src/slack/views/resource-override.js';

const CONFIG = { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } };
const workload = (annotations: Record<string, string>) => ({ kind: 'Deployment', metadata: { annotations } }) as never;

describe('the resources override kept on a rendered workload', () => {
  it('is read with who set it and when; older annotations have the values only, and odd ones are ignored', () => {
    const set = overrideAnnotations({ limits: { memory: '512Mi' } }, 'U0ALICE', '2026-12-07T21:00:00Z');
    expect(readOverride(workload(set))).toEqual({ settings: { limits: { memory: '512Mi' } }, by: 'U0ALICE', at: '2026-12-07T21:00:00Z' });
    expect(readOverride(workload({ 'k8s-chatops.io/resources': '{"limits":{"memory":"512Mi"}}' }))).toEqual({
      settings: { limits: { memory: '512Mi' } },
    });
    expect(readOverride(workload({ ...set, 'k8s-chatops.io/resources-set-at': 'yesterday' }))?.at).toBeUndefined();
    expect(readOverride(workload({ 'k8s-chatops.io/resources': '{}' }))).toBeUndefined();
    expect(readOverride(workload({}))).toBeUndefined();
  });

  it('sets each chat value beside the config’s, equal quantities spelled differently counting as the same', () => {
    expect(overrideValues({ requests: { memory: '0.125Gi' }, limits: { cpu: '1', memory: '512Mi' } }, CONFIG)).toEqual([
      { label: 'memory request', chat: '0.125Gi', config: '128Mi', differs: false },
      { label: 'cpu limit', chat: '1', differs: true },
      { label: 'memory limit', chat: '512Mi', config: '256Mi', differs: true },
    ]);
  });
});

describe('resources --reset', () => {
  const live = { requests: { cpu: '200m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } };

  it('describes what goes back to the config, and nothing when the container already has it', () => {
    expect(describeReset(live, CONFIG)).toEqual(['cpu request 200m → 100m', 'cpu limit 1 → none', 'memory limit 512Mi → 256Mi']);
    expect(describeReset(CONFIG, CONFIG)).toEqual([]);
    expect(describeReset({ limits: { memory: '1Gi' } }, { limits: { memory: '1024Mi' } })).toEqual([]);
  });

  it('patches the container to the config, removing what the config does not set, and drops the override annotations', () => {
    expect(resetPatch('myapp', live, CONFIG, { 'k8s-chatops.io/request-id': 'r1' })).toEqual({
      metadata: {
        annotations: {
          'k8s-chatops.io/request-id': 'r1',
          'k8s-chatops.io/resources': null,
          'k8s-chatops.io/resources-set-by': null,
          'k8s-chatops.io/resources-set-at': null,
        },
      },
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'myapp', resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: null, memory: '256Mi' } } },
            ],
          },
        },
      },
    });
  });
});

describe('how status and deploy say it', () => {
  const override = { settings: { limits: { memory: '512Mi' }, requests: { cpu: '100m' } }, by: 'U0ALICE', at: '2026-12-07T21:00:00Z' };

  it('names who, when, both values and the way back', () => {
    expect(overrideStatusLine('myapp', 'beta', override, CONFIG)).toBe(
      ":pencil2: *Resources set from chat* by <@U0ALICE> (<!date^1796677200^{date_short_pretty} {time_secs}|2026-12-07 21:00:00 UTC>): cpu request 100m (as in the config), memory limit 512Mi (config: 256Mi). Every deploy to `beta` keeps them; `/k8s resources myapp beta --reset` goes back to the bot's config.",
    );
    expect(overrideDeployNote('myapp', 'beta', override, undefined)).toBe(
      'kept resources set from chat: cpu request 100m (config: none), memory limit 512Mi (config: none) (`resources myapp beta --reset` drops them)',
    );
  });

  it('escapes a recorded name that is not a Slack user id, and leaves out who and when when not recorded', () => {
    expect(overrideStatusLine('myapp', 'beta', { ...override, by: '<!channel>' }, CONFIG)).toContain('by &lt;!channel&gt; (<!date^');
    expect(overrideStatusLine('myapp', 'beta', { settings: override.settings }, CONFIG)).toMatch(
      /^:pencil2: \*Resources set from chat\*: cpu request/,
    );
  });
});

/** A Deployment with one container `myapp` of these resources and these annotations. */
const deployment = (resources: object, annotations: Record<string, string> = {}) =>
  ({
    kind: 'Deployment',
    metadata: { name: 'myapp-green', annotations },
    spec: { selector: {}, template: { spec: { containers: [{ name: 'myapp', image: 'i:1', resources }] } } },
  }) as never;

describe('the override on a Deployment made from the serving pod template (a colour, a canary)', () => {
  const record = overrideAnnotations({ limits: { memory: '512Mi' } }, 'U0ALICE', '2026-12-07T21:00:00Z');

  it('carries the serving record verbatim, and nothing else; none when nothing was set from chat', () => {
    expect(carriedOverride(workload({ ...record, 'k8s-chatops.io/deployed-by': 'bob' }))).toEqual(record);
    expect(readOverride(workload(carriedOverride(workload(record))))).toEqual(readOverride(workload(record)));
    expect(carriedOverride(workload({ 'k8s-chatops.io/resources': '{}', 'k8s-chatops.io/resources-set-by': 'U0ALICE' }))).toEqual({});
    expect(carriedOverride(undefined)).toEqual({});
    expect(overrideCarriedNote(readOverride(workload(record))!, CONFIG, 'myapp')).toBe(
      'runs the resources set from chat on myapp: memory limit 512Mi (config: 256Mi)',
    );
  });

  it('a colour used again: what its own override left and the new body lacks is removed, in a patch and on an answer', () => {
    const existing = deployment({ requests: { cpu: '100m' }, limits: { cpu: '1', memory: '512Mi' } }, record);
    const body = deployment({ requests: { cpu: '100m' }, limits: { memory: '256Mi' } });
    const left = leftoverPatch(existing, body)!;
    expect(left.removed).toEqual(['cpu limit 1', 'the record of resources set from chat']);
    expect(left.patch).toEqual({
      metadata: {
        annotations: {
          'k8s-chatops.io/resources': null,
          'k8s-chatops.io/resources-set-by': null,
          'k8s-chatops.io/resources-set-at': null,
        },
      },
      spec: { template: { spec: { containers: [{ name: 'myapp', resources: { limits: { cpu: null } } }] } } },
    });
    const cleared = left.without(existing) as {
      metadata: { annotations: object };
      spec: { template: { spec: { containers: { resources: object }[] } } };
    };
    expect(cleared.metadata.annotations).toEqual({});
    expect(cleared.spec.template.spec.containers[0]!.resources).toEqual({ requests: { cpu: '100m' }, limits: { memory: '512Mi' } });
    expect(existing).toEqual(deployment({ requests: { cpu: '100m' }, limits: { cpu: '1', memory: '512Mi' } }, record));

    // A body that carries a record (the serving one's) and sets every value: nothing is left behind.
    expect(leftoverPatch(existing, deployment({ limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '1' } }, record))).toBeUndefined();
    expect(leftoverPatch(deployment({}), body)).toBeUndefined();
  });
});
