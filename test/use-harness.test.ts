/** test/support/use-harness.ts: the handle forwards to the running harness, follows restarts, and says when it is used out of its hooks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from './support/harness.js';
import { useHarness } from './support/use-harness.js';

const seen: string[] = [];
let h: Harness;
let early: unknown;

describe('a harness started by useHarness', () => {
  seen.push('registered');
  h = useHarness({ name: 'use-harness' });
  try {
    seen.push(h.prefix);
  } catch (err) {
    early = err;
  }
  beforeAll(() => {
    seen.push(`beforeAll written after useHarness: ${h.prefix.length > 0 ? 'running' : 'no prefix'}`);
  });
  afterAll(async () => {
    // Still running: a hook written after useHarness tears down before the harness stops.
    const res = await h.command('help', { channel: 'C0OPS' });
    seen.push(`afterAll written after useHarness: ${res.status}`);
  });

  it('refuses use before its beforeAll, with a message that says so', () => {
    expect(String(early)).toMatch(/useHarness\('use-harness'\): the harness was used before its beforeAll started it .*\(reading prefix\)/);
  });

  it('forwards to the running harness: commands, emulators, the bot', async () => {
    const res = await h.command('help', { channel: 'C0OPS' });
    expect(res.status).toBe(200);
    expect(h.slack.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    expect(h.kube.list('v1', 'Namespace', '').map((n) => n.metadata.name)).toContain('beta');
    expect('deployAndWait' in h).toBe(true);
  });

  it('follows h.restart(): the new bot, its new address, on the same prefix', async () => {
    const [chatops, prefix] = [h.chatops, h.prefix];
    await h.restart();
    expect(h.chatops).not.toBe(chatops);
    expect(h.eventsUrl).toBe(`http://127.0.0.1:${h.chatops.port}/slack/events`);
    expect(h.prefix).toBe(prefix);
    expect((await h.command('help', { channel: 'C0OPS' })).status).toBe(200);
  });

  it('is no thenable: an async function may return it', async () => {
    const back = await (async () => h)();
    expect(back).toBe(h);
  });
});

it('ran the hooks in order (afterAll in reverse) and refuses use after the stop', () => {
  expect(seen).toEqual(['registered', 'beforeAll written after useHarness: running', 'afterAll written after useHarness: 200']);
  expect(() => h.kube).toThrow(/useHarness\('use-harness'\): the harness was used after its afterAll stopped it \(reading kube\)/);
});
