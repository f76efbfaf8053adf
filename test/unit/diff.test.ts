import { describe, expect, it } from 'vitest';
import { SECRET_MASK, diffChanges, diffDigest, formatValue, isEmptyDiff, mergeChanges, type ObjectChange } from '../../src/kube/diff.js';
import { ANNOTATION_CHANGE_CAUSE, ANNOTATION_DEPLOYED_BY, ANNOTATION_DEPLOYED_FROM, ANNOTATION_REQUEST_ID } from '../../src/kube/render.js';
import { NOISE_ANNOTATIONS } from '../../src/kube/diff.js';
import { diffBlocks, diffLines, dryRunMessage } from '../../src/slack/views/diff.js';

function deployment(
  over: { image?: string; replicas?: number; env?: Array<{ name: string; value: string }>; rv?: string; gen?: number } = {},
) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'myapp',
      namespace: 'beta',
      uid: 'u-1',
      resourceVersion: over.rv ?? '10',
      generation: over.gen ?? 3,
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { 'app.kubernetes.io/name': 'myapp' },
      annotations: {
        'deployment.kubernetes.io/revision': String(over.gen ?? 3),
        'k8s-chatops.io/request-id': `req-${over.rv ?? '10'}`,
        'kubectl.kubernetes.io/last-applied-configuration': '{"huge":true}',
      },
      managedFields: [{ manager: 'k8s-chatops', operation: 'Apply', fieldsV1: { 'f:spec': {} } }],
    },
    spec: {
      replicas: over.replicas ?? 2,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'myapp' } },
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': 'myapp' } },
        spec: {
          containers: [
            { name: 'sidecar', image: 'envoy:1' },
            { name: 'web', image: over.image ?? 'reg/myapp:1.0', env: over.env ?? [{ name: 'LOG_LEVEL', value: 'info' }] },
          ],
        },
      },
    },
    status: { replicas: 2, readyReplicas: 2, observedGeneration: over.gen ?? 3 },
  };
}

const change = (before: unknown, after: unknown, kind = 'Deployment', name = 'myapp'): ObjectChange => ({
  kind,
  name,
  namespace: 'beta',
  before,
  after,
});

describe('diffChanges', () => {
  it('shows only the changed fields, with named list items, and drops server-set noise', () => {
    const before = deployment();
    const after = deployment({ image: 'reg/myapp:1.1', replicas: 3, rv: '11', gen: 4 });
    const diff = diffChanges([change(before, after)]);
    expect(diffLines(diff)).toEqual([
      '~ deployment myapp (namespace beta): changed',
      '  - spec.replicas: 2',
      '  + spec.replicas: 3',
      '  - spec.template.spec.containers[web].image: reg/myapp:1.0',
      '  + spec.template.spec.containers[web].image: reg/myapp:1.1',
    ]);
  });

  it('says "no changes" when only noise differs (status, managedFields, resourceVersion, generation, revision, request id)', () => {
    const before = deployment();
    const after = { ...deployment({ rv: '99', gen: 7 }), status: { replicas: 0 } };
    const diff = diffChanges([change(before, after)]);
    expect(isEmptyDiff(diff)).toBe(true);
    expect(diffLines(diff)).toEqual(['no changes']);
  });

  it('lists every field of a created object, one header line for a deleted one', () => {
    const configMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'myapp-config', namespace: 'beta', uid: 'x' },
      data: { B: '2', A: '1' },
    };
    const diff = diffChanges([change(undefined, configMap, 'ConfigMap', 'myapp-config'), change(deployment(), undefined)]);
    expect(diffLines(diff)).toEqual([
      '+ configmap myapp-config (namespace beta): created',
      // strings that read as numbers are quoted: the value is the text "1", not the number
      '  + data.A: "1"',
      '  + data.B: "2"',
      '- deployment myapp (namespace beta): deleted',
    ]);
  });

  it('adds and removes list items by name; scalar lists are one value', () => {
    const before = deployment();
    const after = structuredClone(before) as ReturnType<typeof deployment>;
    after.spec.template.spec.containers = [
      { name: 'web', image: 'reg/myapp:1.0', env: [{ name: 'LOG_LEVEL', value: 'info' }] },
      { name: 'cache', image: 'redis:7', command: ['redis-server', '--save', ''] } as never,
    ];
    const lines = diffLines(diffChanges([change(before, after)]));
    expect(lines).toContain('  + spec.template.spec.containers[cache].image: redis:7');
    expect(lines).toContain('  + spec.template.spec.containers[cache].command: ["redis-server","--save",""]');
    expect(lines).toContain('  - spec.template.spec.containers[sidecar].image: envoy:1');
    expect(lines.some((l) => l.includes('containers[web]'))).toBe(false);
  });

  it('masks secret keys in ConfigMaps and container env, and every value of a Secret, but still sees that they changed', () => {
    const cm = (token: string) => ({ kind: 'ConfigMap', metadata: { name: 'c' }, data: { API_TOKEN: token, LOG_LEVEL: 'info' } });
    const secret = (v: string) => ({ kind: 'Secret', metadata: { name: 's' }, data: { password: v } });
    const envBefore = deployment({ env: [{ name: 'API_TOKEN', value: 'hunter2' }] });
    const envAfter = deployment({ env: [{ name: 'API_TOKEN', value: 'swordfish' }] });
    const diff = diffChanges(
      [
        change(cm('hunter2'), cm('swordfish'), 'ConfigMap', 'c'),
        change(secret('aHVudGVyMg=='), secret('c3dvcmRmaXNo'), 'Secret', 's'),
        change(envBefore, envAfter),
        change(undefined, secret('bmV3'), 'Secret', 'fresh'),
      ],
      { secretKeys: ['API_TOKEN'] },
    );
    const text = diffLines(diff).join('\n');
    for (const plain of ['hunter2', 'swordfish', 'aHVudGVyMg==', 'c3dvcmRmaXNo', 'bmV3']) expect(text).not.toContain(plain);
    expect(text).toContain(`  - data.API_TOKEN: ${SECRET_MASK}`);
    expect(text).toContain(`  + data.API_TOKEN: ${SECRET_MASK}`);
    expect(text).toContain(`  + data.password: ${SECRET_MASK}`);
    expect(text).toContain(`  + spec.template.spec.containers[web].env[API_TOKEN].value: ${SECRET_MASK}`);
    expect(text).not.toContain('LOG_LEVEL');
  });

  it('digests the diff: two secret values differ by their keyed fingerprint, never by the value itself', () => {
    const cm = (token: string) => ({ kind: 'ConfigMap', metadata: { name: 'c' }, data: { API_TOKEN: token } });
    const fp = (v: string) => `fp(${v.length})`;
    const a = diffChanges([change(cm('old'), cm('new1'), 'ConfigMap', 'c')], { secretKeys: ['API_TOKEN'], fingerprint: fp });
    const b = diffChanges([change(cm('old'), cm('other'), 'ConfigMap', 'c')], { secretKeys: ['API_TOKEN'], fingerprint: fp });
    const again = diffChanges([change(cm('old'), cm('new1'), 'ConfigMap', 'c')], { secretKeys: ['API_TOKEN'], fingerprint: fp });
    expect(diffDigest(a)).toBe(diffDigest(again));
    expect(diffDigest(a)).not.toBe(diffDigest(b));
    expect(JSON.stringify(a)).not.toContain('new1');
  });

  it('keeps the first before and the last after when one command writes an object twice', () => {
    const merged = mergeChanges([
      change(deployment(), deployment({ replicas: 3 })),
      change(deployment({ replicas: 3 }), deployment({ replicas: 4 })),
    ]);
    expect(merged).toHaveLength(1);
    expect(diffLines(diffChanges(merged))).toContain('  + spec.replicas: 4');
  });

  it('drops allocated Service cluster IPs and quotes values that are not plain words', () => {
    const svc = (ip: string) => ({
      kind: 'Service',
      metadata: { name: 'myapp' },
      spec: { clusterIP: ip, clusterIPs: [ip], ports: [{ port: 80 }] },
    });
    expect(isEmptyDiff(diffChanges([change(svc('10.0.0.1'), svc('10.0.0.2'), 'Service')]))).toBe(true);
    expect(formatValue('true')).toBe('"true"');
    expect(formatValue('')).toBe('""');
    expect(formatValue('a b')).toBe('"a b"');
    expect(formatValue('line\nbreak')).toBe('"line\\nbreak"');
    expect(formatValue('x'.repeat(500)).length).toBe(200);
  });
});

it("treats the bot's own bookkeeping annotations as noise", () => {
  for (const key of [ANNOTATION_REQUEST_ID, ANNOTATION_DEPLOYED_BY, ANNOTATION_DEPLOYED_FROM, ANNOTATION_CHANGE_CAUSE])
    expect(NOISE_ANNOTATIONS.has(key), key).toBe(true);
});

describe('diff view', () => {
  it('escapes hostile text from the cluster or a user inside the code block', () => {
    const before = { kind: 'ConfigMap', metadata: { name: 'c' }, data: { NOTE: 'ok' } };
    const after = { kind: 'ConfigMap', metadata: { name: 'c' }, data: { NOTE: '<!channel> <https://evil.example|click> ```' } };
    const view = diffBlocks(diffChanges([change(before, after, 'ConfigMap', 'c')]), 'diff');
    const shown = JSON.stringify(view.blocks);
    expect(shown).not.toContain('<!channel>');
    expect(shown).not.toContain('<https://evil');
    expect(shown).toContain('&lt;!channel&gt;');
    expect(view.fits).toBe(true);
  });

  it('cuts a long diff inline and says the rest is in the file; the file text has every line', () => {
    const data = (v: string) => Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`KEY_${i}`, `${v}${i}`]));
    const diff = diffChanges([change({ kind: 'ConfigMap', data: data('a') }, { kind: 'ConfigMap', data: data('b') }, 'ConfigMap', 'c')]);
    const view = diffBlocks(diff, 'diff');
    expect(view.fits).toBe(false);
    expect(view.fullText.split('\n')).toHaveLength(161);
    expect(JSON.stringify(view.blocks)).toContain('more lines in the attached file');
  });

  it('answers a dry run with "no changes" when nothing would change', () => {
    const { message } = dryRunMessage({ objects: [] }, 'scale myapp in beta to 2');
    expect(message.text).toContain('no changes');
    expect(JSON.stringify(message.blocks)).toContain('Nothing was written');
  });
});
