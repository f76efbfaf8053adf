import { describe, expect, it } from 'vitest';
import { useHarness } from '../support/use-harness.js';

const h = useHarness({ name: 'own-keys' });

/** Calls about workloads (the start-up permission check's access reviews don't count). */
const kubeCalls = () => h.kube.requests.filter((r) => !r.path.includes('selfsubjectaccessreviews')).length;

describe('names that only Object.prototype knows', () => {
  it.each([
    ['deploy myapp constructor', /There is no environment `constructor`/],
    ['deploy constructor beta', /There is no app `constructor`/],
    ['deploy constructor constructor', /There is no app `constructor`|There is no environment `constructor`/],
    ['status constructor', /There is no environment `constructor`/],
    ['scale myapp constructor 3', /There is no environment `constructor`/],
    ['config constructor beta set A=b', /There is no app `constructor`/],
    ['restart myapp constructor', /There is no environment `constructor`/],
    ['logs myapp constructor', /There is no environment `constructor`/],
    ['pods constructor', /There is no environment `constructor`/],
    ['nodes --env constructor', /There is no environment `constructor`/],
    ['deploy myapp __proto__', /environment must be a lowercase DNS-1123 name/],
    ['deploy myapp toString', /environment must be a lowercase DNS-1123 name/],
  ])('`%s` from a channel bound to "*" gets the normal answer; nothing queued, nothing audited as allowed', async (text, expected) => {
    const before = kubeCalls();
    const res = await h.command(text, { channel: 'C0OPS', user: 'U0OPS' });
    expect(res.status).toBe(200);
    expect(res.json.text).toMatch(expected);
    expect(kubeCalls()).toBe(before);
    expect(await h.chatops.queue.count()).toBe(0);
    const audited = await h.chatops.services.audit.recent({ limit: 200 });
    expect(audited.filter((e) => e.outcome !== 'denied' && e.outcome !== 'rejected_input')).toEqual([]);
  });
});
