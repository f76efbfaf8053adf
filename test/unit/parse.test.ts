import { beforeAll, describe, expect, it } from 'vitest';
import { loadVerbs } from '../../src/command/registry.js';
import { parseCommand, suggestVerb } from '../../src/command/parse.js';
import type { Verb } from '../../src/command/types.js';
import { ChatOpsError } from '../../src/errors/index.js';

let verbs: Map<string, Verb>;
beforeAll(async () => {
  verbs = await loadVerbs();
});

function badInputMessage(text: string): string {
  try {
    parseCommand(text, verbs);
  } catch (err) {
    expect(err).toBeInstanceOf(ChatOpsError);
    expect((err as ChatOpsError).kind).toBe('bad_input');
    return (err as ChatOpsError).userMessage;
  }
  throw new Error(`"${text}" parsed but should not have`);
}

describe('command parsing', () => {
  it('discovers one verb per file in commands/', () => {
    expect([...verbs.keys()]).toEqual(expect.arrayContaining(['deploy', 'status', 'help', 'access']));
  });

  it('takes an optional flag value only when the next word is one (`--follow`, `--follow 2m`)', () => {
    expect(parseCommand('logs myapp beta --follow', verbs).args).toMatchObject({ follow: 60_000 });
    expect(parseCommand('logs myapp beta --follow 2m --lines 5', verbs).args).toMatchObject({ follow: 120_000, lines: 5 });
    expect(parseCommand('logs myapp beta --follow=30s', verbs).args).toMatchObject({ follow: 30_000 });
    // `beta` is no duration: it stays a positional.
    expect(parseCommand('logs myapp --follow beta', verbs).args).toMatchObject({ app: 'myapp', env: 'beta', follow: 60_000 });
    expect(badInputMessage('logs myapp beta --follow 11m')).toContain('follow lasts from `5s` to `10m`');
  });

  it('parses deploy with and without a version', () => {
    expect(parseCommand('deploy myapp beta 1.4.2', verbs).args).toEqual({ app: 'myapp', env: 'beta', version: '1.4.2' });
    expect(parseCommand('  deploy   myapp beta ', verbs).args).toEqual({ app: 'myapp', env: 'beta' });
  });

  it('reads status <env> and status <app> <env>', () => {
    expect(parseCommand('status beta', verbs).args).toEqual({ env: 'beta' });
    expect(parseCommand('status myapp beta', verbs).args).toEqual({ app: 'myapp', env: 'beta' });
  });

  it('answers a missing argument with the usage line', () => {
    expect(badInputMessage('deploy myapp')).toMatch(
      /Missing `&lt;env&gt;`[\s\S]*Usage: `\/k8s deploy &lt;app&gt; &lt;env&gt; \[version\][^`]*`/,
    );
  });

  it.each([
    ['deploy myapp; rm -rf / beta', /app must be a lowercase DNS-1123 name|Unexpected/],
    ['deploy ../../etc beta', /DNS-1123/],
    ['deploy MyApp beta', /DNS-1123/],
    ['deploy myapp beta $(curl evil)', /version must be an image tag|Unexpected/],
    ['deploy myapp beta 1.0`id`', /version must be an image tag/],
    ['deploy myapp beta 1.0 extra', /Unexpected `extra`/],
    ['deploy myapp beta --force', /Unknown option `--force`/],
  ])('refuses %s', (text, expected) => {
    expect(badInputMessage(text)).toMatch(expected);
  });

  it('refuses 10 kB of text without echoing it', () => {
    const message = badInputMessage(`deploy ${'a'.repeat(10_000)}`);
    expect(message).toMatch(/at most 1000/);
    expect(message.length).toBeLessThan(300);
  });

  it('suggests the nearest verb', () => {
    expect(badInputMessage('deplyo myapp beta')).toMatch(/Did you mean `deploy`\?/);
    expect(badInputMessage('stauts beta')).toMatch(/Did you mean `status`\?/);
    expect(suggestVerb('xyzzy', ['deploy', 'status'])).toBeUndefined();
  });

  it('treats an empty command as help', () => {
    expect(parseCommand('', verbs).verb.verb).toBe('help');
  });
});

describe('usage errors in Slack mrkdwn', () => {
  it('never hold a live `<…>`: placeholders are escaped, and what was typed never pings', async () => {
    const all = verbs;
    const typed = [
      'deploy',
      'deploy myapp beta 1.0 <!channel>',
      'deploy myapp beta 1.0 <!here|here>',
      'config myapp beta set <!subteam^S0TEAM|@oncall>',
      'scale myapp beta <@U0BOSS>',
      'deploy myapp beta 1.0 &lt;b&gt;',
      ...[...all.values()].map((v) => `${v.verb} --no-such-flag`),
    ];
    for (const text of typed) {
      expect(badInputMessage(text), text).not.toMatch(/<[^>]*>/);
    }
    const shown = badInputMessage;
    // Shown as typed: Slack's own escaping of a typed `<` is decoded once, not doubled.
    expect(shown('deploy myapp beta 1.0 &lt;b&gt;')).toContain('Unexpected `&lt;b&gt;`');
    expect(shown('deploy myapp beta 1.0 <!channel>')).toContain('Unexpected `&lt;!channel&gt;`');
  });
});
