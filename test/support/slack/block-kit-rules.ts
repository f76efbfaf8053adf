/**
 * Slack's Block Kit limits, as chat.postMessage / chat.update /
 * chat.postEphemeral and response_url posts enforce them. The emulator refuses
 * with `invalid_blocks` what this finds; the render tests check every message
 * kind against the same rules. Messages are Slack's, one per violation, each
 * ending in `[json-pointer:/blocks/…]`.
 */

/** Slack refuses a message whose text is longer than this (`msg_too_long`). */
export const MAX_MESSAGE_TEXT = 40_000;
export const MAX_BLOCKS = 50;

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

class Checker {
  readonly errors: string[] = [];

  add(message: string, pointer: string): void {
    this.errors.push(`${message} [json-pointer:${pointer}]`);
  }

  /** A string of 1..max characters (Slack counts UTF-16 code units, as JS does). */
  text(v: unknown, max: number, at: string, min = 1): void {
    if (typeof v !== 'string') return this.add('must be a string', at);
    if (v.length < min) return this.add(`must be more than ${min - 1} characters`, at);
    if (v.length > max) this.add(`must be less than ${max + 1} characters`, at);
  }

  /** A text object: `{type: 'mrkdwn'|'plain_text', text}`; `plainOnly` where Slack takes plain_text only. */
  textObject(v: unknown, max: number, at: string, plainOnly = false): void {
    if (!isObj(v)) return this.add('must be an object', at);
    const allowed = plainOnly ? ['plain_text'] : ['plain_text', 'mrkdwn'];
    if (!allowed.includes(String(v['type']))) this.add('must be a valid enum value', `${at}/type`);
    this.text(v['text'], max, `${at}/text`);
  }

  id(v: unknown, at: string): void {
    if (v === undefined) return;
    this.text(v, 255, at);
  }

  confirm(v: unknown, at: string): void {
    if (v === undefined) return;
    if (!isObj(v)) return this.add('must be an object', at);
    this.textObject(v['title'], 100, `${at}/title`, true);
    this.textObject(v['text'], 300, `${at}/text`);
    this.textObject(v['confirm'], 30, `${at}/confirm`, true);
    this.textObject(v['deny'], 30, `${at}/deny`, true);
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a non-string style is refused either way
    if (v['style'] !== undefined && !['primary', 'danger'].includes(String(v['style'])))
      this.add('must be a valid enum value', `${at}/style`);
  }

  button(v: Json, at: string): void {
    this.textObject(v['text'], 75, `${at}/text`, true);
    if (v['value'] !== undefined) this.text(v['value'], 2_000, `${at}/value`);
    if (v['url'] !== undefined) this.text(v['url'], 3_000, `${at}/url`);
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a non-string style is refused either way
    if (v['style'] !== undefined && !['primary', 'danger'].includes(String(v['style'])))
      this.add('must be a valid enum value', `${at}/style`);
    this.confirm(v['confirm'], `${at}/confirm`);
  }

  /** An interactive element (only buttons are used here); action_ids must be unique within the block. */
  element(v: unknown, at: string, actionIds: Set<string>): void {
    if (!isObj(v)) return this.add('must be an object', at);
    if (v['type'] !== 'button') return this.add('must be a valid enum value', `${at}/type`);
    this.id(v['action_id'], `${at}/action_id`);
    if (typeof v['action_id'] === 'string') {
      if (actionIds.has(v['action_id'])) this.add('action_id must be unique within the block', `${at}/action_id`);
      actionIds.add(v['action_id']);
    }
    this.button(v, at);
  }

  block(b: unknown, at: string): void {
    if (!isObj(b)) return this.add('must be an object', at);
    this.id(b['block_id'], `${at}/block_id`);
    switch (b['type']) {
      case 'section': {
        if (b['text'] === undefined && b['fields'] === undefined) return this.add('must provide text or fields', at);
        if (b['text'] !== undefined) this.textObject(b['text'], 3_000, `${at}/text`);
        if (b['fields'] !== undefined) {
          const f = b['fields'];
          if (!Array.isArray(f) || f.length === 0) return this.add('must provide at least one field', `${at}/fields`);
          if (f.length > 10) this.add('no more than 10 items allowed', `${at}/fields`);
          f.forEach((x, i) => this.textObject(x, 2_000, `${at}/fields/${i}`));
        }
        if (b['accessory'] !== undefined) this.element(b['accessory'], `${at}/accessory`, new Set());
        return;
      }
      case 'header':
        return this.textObject(b['text'], 150, `${at}/text`, true);
      case 'divider':
        return;
      case 'context': {
        const els = b['elements'];
        if (!Array.isArray(els) || els.length === 0) return this.add('must provide at least one element', `${at}/elements`);
        if (els.length > 10) this.add('no more than 10 items allowed', `${at}/elements`);
        els.forEach((e, i) => {
          if (isObj(e) && e['type'] === 'image') {
            this.text(e['image_url'], 3_000, `${at}/elements/${i}/image_url`);
            this.text(e['alt_text'], 2_000, `${at}/elements/${i}/alt_text`);
          } else this.textObject(e, 3_000, `${at}/elements/${i}`);
        });
        return;
      }
      case 'actions': {
        const els = b['elements'];
        if (!Array.isArray(els) || els.length === 0) return this.add('must provide at least one element', `${at}/elements`);
        if (els.length > 25) this.add('no more than 25 items allowed', `${at}/elements`);
        const ids = new Set<string>();
        els.forEach((e, i) => this.element(e, `${at}/elements/${i}`, ids));
        return;
      }
      default:
        this.add('must be a valid enum value', `${at}/type`);
    }
  }
}

/**
 * Slack's complaints about `blocks` (empty when valid). `pointer` is where the
 * blocks sit in the request (`/blocks` for Web API calls and response_url posts).
 */
export function blockKitErrors(blocks: unknown, pointer = '/blocks'): string[] {
  const c = new Checker();
  if (blocks === undefined) return c.errors;
  if (!Array.isArray(blocks)) {
    c.add('must be an array', pointer);
    return c.errors;
  }
  if (blocks.length > MAX_BLOCKS) c.add(`no more than ${MAX_BLOCKS} items allowed`, pointer);
  const blockIds = new Set<string>();
  blocks.forEach((b, i) => {
    c.block(b, `${pointer}/${i}`);
    const id = isObj(b) ? b['block_id'] : undefined;
    if (typeof id === 'string') {
      if (blockIds.has(id)) c.add('block_id must be unique within the message', `${pointer}/${i}/block_id`);
      blockIds.add(id);
    }
  });
  return c.errors;
}

export interface MessageRefusal {
  error: 'invalid_blocks' | 'msg_too_long';
  errors?: string[];
}

/** What Slack answers for a message body (text + blocks), or undefined when it accepts it. */
export function refuseMessage(args: { text?: unknown; blocks?: unknown }): MessageRefusal | undefined {
  if (typeof args.text === 'string' && args.text.length > MAX_MESSAGE_TEXT) return { error: 'msg_too_long' };
  // An empty blocks array means "no blocks" (chat.update uses it to drop them).
  if (Array.isArray(args.blocks) && args.blocks.length === 0) return undefined;
  const errors = blockKitErrors(args.blocks);
  return errors.length > 0 ? { error: 'invalid_blocks', errors } : undefined;
}
