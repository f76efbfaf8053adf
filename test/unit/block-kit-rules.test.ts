import { describe, expect, it } from 'vitest';
import { blockKitErrors, refuseMessage } from '../support/slack/block-kit-rules.js';

describe('Block Kit rules (the emulator’s validator)', () => {
  it('accepts what the bot sends: sections, fields, headers, contexts, actions with distinct ids', () => {
    expect(
      blockKitErrors([
        { type: 'header', text: { type: 'plain_text', text: 'Deploy', emoji: true } },
        { type: 'section', text: { type: 'mrkdwn', text: '*ok*' } },
        { type: 'section', fields: [{ type: 'mrkdwn', text: 'a' }] },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'c' }] },
        { type: 'divider' },
        {
          type: 'actions',
          block_id: 'b',
          elements: [
            { type: 'button', text: { type: 'plain_text', text: 'A' }, action_id: 'x:1', value: '1', style: 'primary' },
            { type: 'button', text: { type: 'plain_text', text: 'B' }, action_id: 'x:2', value: '2' },
          ],
        },
      ]),
    ).toEqual([]);
  });

  it('points at each violation', () => {
    expect(
      blockKitErrors([
        { type: 'table' },
        { type: 'section' },
        { type: 'context', elements: Array(11).fill({ type: 'mrkdwn', text: 'x' }) },
      ]),
    ).toEqual([
      'must be a valid enum value [json-pointer:/blocks/0/type]',
      'must provide text or fields [json-pointer:/blocks/1]',
      'no more than 10 items allowed [json-pointer:/blocks/2/elements]',
    ]);
    expect(
      blockKitErrors([
        { type: 'divider', block_id: 'a' },
        { type: 'divider', block_id: 'a' },
      ]),
    ).toEqual(['block_id must be unique within the message [json-pointer:/blocks/1/block_id]']);
  });

  it('refuses text over 40,000 characters before looking at blocks; no blocks or [] is fine', () => {
    expect(refuseMessage({ text: 'x'.repeat(40_001), blocks: [{ type: 'bogus' }] })).toEqual({ error: 'msg_too_long' });
    expect(refuseMessage({ text: 'x' })).toBeUndefined();
    expect(refuseMessage({ text: 'x', blocks: [] })).toBeUndefined();
  });
});
