// Slack mrkdwn to DOM nodes. Text only ever becomes text nodes: nothing from a
// message is parsed as HTML, so a message can never inject markup or script.

const EMOJI = {
  warning: '⚠️', hourglass: '⌛', hourglass_flowing_sand: '⏳', white_check_mark: '✅', no_entry: '⛔',
  information_source: 'ℹ️', heavy_multiplication_x: '✖️', bulb: '💡', x: '❌', lock: '🔒',
  large_green_circle: '🟢', large_yellow_circle: '🟡', red_circle: '🔴', repeat: '🔁', page_facing_up: '📄',
  no_entry_sign: '🚫', no_bell: '🔕', inbox_tray: '📥', gear: '⚙️', boom: '💥', ballot_box_with_check: '☑️',
  wave: '👋', rocket: '🚀', raised_hand: '✋', package: '📦', leftwards_arrow_with_hook: '↩️',
  grey_question: '❔', arrow_left: '⬅️', arrow_forward: '▶️', alarm_clock: '⏰', fire: '🔥', eyes: '👀',
  tada: '🎉', memo: '📝', mag: '🔍', chart_with_upwards_trend: '📈', bell: '🔔', stopwatch: '⏱️',
  construction: '🚧', arrows_counterclockwise: '🔄', heavy_check_mark: '✔️', skull: '💀', thumbsup: '👍',
  '+1': '👍', chatops: '🤖', robot_face: '🤖', rotating_light: '🚨', zzz: '💤', scissors: '✂️',
};

/** Slack escapes only these three in message text. */
export function unescapeEntities(text) {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export function emoji(name) {
  return EMOJI[name];
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const SAFE_URL = /^(https?:|mailto:)/i;

/** A `<…>` token: user, channel, special mention or link. */
function angle(inner, ctx) {
  const [target, label] = inner.split('|', 2);
  if (target.startsWith('@')) {
    const id = target.slice(1);
    return el('span', 'mention', `@${label ?? ctx.userName(id)}`);
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    return el('span', 'mention channel', `#${label ?? ctx.channelName(id)}`);
  }
  if (target.startsWith('!date^')) {
    // <!date^unix^format|fallback>: shown in the reader's own time zone, as Slack does.
    const seconds = Number(target.split('^')[1]);
    return el('time', null, Number.isFinite(seconds) ? new Date(seconds * 1000).toLocaleString() : unescapeEntities(label ?? ''));
  }
  if (target.startsWith('!subteam^')) return el('span', 'mention', `@${label ?? target.slice(9)}`);
  if (target.startsWith('!')) return el('span', 'mention', `@${label ?? target.slice(1).split('^')[0]}`);
  const url = unescapeEntities(target);
  if (SAFE_URL.test(url)) {
    const a = el('a', null, unescapeEntities(label ?? url));
    a.href = url;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    return a;
  }
  return document.createTextNode(unescapeEntities(label ?? target));
}

const INLINE = /(`[^`\n]+`)|<([^<>\s][^<>]*)>|(\*[^*\n]+\*)|(_[^_\n]+_)|(~[^~\n]+~)|:([a-z0-9_+\-]+):/g;

function inline(text, parent, ctx) {
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) parent.append(unescapeEntities(text.slice(last, m.index)));
    last = m.index + m[0].length;
    if (m[1]) parent.append(el('code', null, unescapeEntities(m[1].slice(1, -1))));
    else if (m[2] !== undefined) parent.append(angle(m[2], ctx));
    else if (m[3] || m[4] || m[5]) {
      const node = el(m[3] ? 'strong' : m[4] ? 'em' : 's');
      inline(m[0].slice(1, -1), node, ctx);
      parent.append(node);
    } else if (m[6]) {
      const e = EMOJI[m[6]];
      if (e) {
        const span = el('span', 'emoji', e);
        span.title = `:${m[6]}:`;
        parent.append(span);
      } else parent.append(m[0]);
    }
  }
  if (last < text.length) parent.append(unescapeEntities(text.slice(last)));
}

/** Renders mrkdwn into a fragment: ``` blocks, > quotes, lines, then inline marks. */
export function renderMrkdwn(text, ctx) {
  const frag = document.createDocumentFragment();
  const parts = String(text ?? '').split('```');
  parts.forEach((part, i) => {
    if (i % 2 === 1) {
      frag.append(el('pre', 'code', unescapeEntities(part.replace(/^\n/, ''))));
      return;
    }
    const lines = part.split('\n');
    lines.forEach((line, j) => {
      if (line.startsWith('&gt; ') || line.startsWith('> ')) {
        const q = el('blockquote');
        inline(line.replace(/^(&gt;|>) /, ''), q, ctx);
        frag.append(q);
        return;
      }
      inline(line, frag, ctx);
      if (j < lines.length - 1) frag.append(el('br'));
    });
  });
  return frag;
}

/** plain_text objects: emoji shortcodes become emoji when `emoji` is set; nothing else is interpreted. */
export function renderPlain(obj) {
  const text = String(obj?.text ?? '');
  if (obj?.emoji === false) return document.createTextNode(text);
  return document.createTextNode(text.replace(/:([a-z0-9_+\-]+):/g, (all, name) => EMOJI[name] ?? all));
}

export function renderText(obj, ctx) {
  if (!obj) return document.createDocumentFragment();
  return obj.type === 'mrkdwn' ? renderMrkdwn(obj.text, ctx) : renderPlain(obj);
}
