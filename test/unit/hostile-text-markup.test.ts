/**
 * Text that is not the bot's own (log lines, event and kubelet messages, image,
 * pod and container names, user text) never turns into live Slack markup
 * (issue 9 §0). That every message kind stays within Slack's limits is hostile-text-limits.test.ts.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { escapeMrkdwn, type SlackMessage } from '../../src/slack/blocks.js';
import { hostile, renderAll } from './hostile-text-fixtures.js';

/** Every mrkdwn string of a message: its text, and each text object's text in its blocks. */
function mrkdwnStrings(m: SlackMessage): string[] {
  const out = [m.text];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o['type'] === 'mrkdwn' && typeof o['text'] === 'string') out.push(o['text']);
      Object.values(o).forEach(walk);
    }
  };
  walk(m.blocks);
  return out;
}

/** Markup the bot itself writes: mentions of the requester/approvers, dates, its own channel links. */
const OWN_MARKUP = [/<@U0(DEV|OPS|ONCALL|LEAD)>/g, /<#C0(OPS|DEVTEAM)>/g, /<!subteam\^S0OPS>/g, /<!date\^\d+\^[^|<>]*\|[^<>]*>/g];

function liveMarkup(m: SlackMessage): string[] {
  const found: string[] = [];
  for (let s of mrkdwnStrings(m)) {
    for (const own of OWN_MARKUP) s = s.replace(own, '');
    found.push(...(s.match(/<[^>]*>?/g) ?? []));
    // Invisible direction/zero-width characters must be shown; codeBlock's own `\u200b` between backticks is the bot's.
    found.push(...(s.replace(/`\u200b``/g, '').match(/[\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]/g) ?? []));
  }
  return found;
}

describe('outside text in messages', () => {
  it('the issue’s log line, image and kubelet text come out inert in every renderer', () => {
    const line = '<!channel> URGENT: re-login at <https://evil.example/login|https://sso.corp.example/login>';
    for (const [kind, m] of Object.entries(renderAll(line))) {
      expect(liveMarkup(m), kind).toEqual([]);
      expect(JSON.stringify(m), kind).toContain('&lt;!channel&gt;');
    }
  });

  it('bidi overrides and zero-width characters are shown, not passed through', () => {
    expect(escapeMrkdwn('invoice\u202Efdp.exe\u200b')).toBe('invoice⟨U+202E⟩fdp.exe⟨U+200B⟩');
    expect(liveMarkup(renderAll('gpj\u202e.exe').statusApp!)).toEqual([]);
  });

  it('property: for any outside string, no renderer emits markup the bot did not write', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        for (const [kind, m] of Object.entries(renderAll(s))) expect(liveMarkup(m), `${kind} for ${JSON.stringify(s)}`).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});
