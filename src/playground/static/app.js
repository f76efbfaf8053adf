// The playground page: a small Slack client over the playground's API.
// Every piece of message text goes through mrkdwn.js (text nodes only).
import { renderMrkdwn, renderPlain, renderText } from './mrkdwn.js';

const $ = (id) => document.getElementById(id);
const state = {
  workspace: null,
  messages: [],
  cluster: null,
  user: localStorage.getItem('playground.user') || 'U0DEV',
  channel: localStorage.getItem('playground.channel') || 'C0DEVTEAM',
  thread: null, // { channel, ts }
  seen: {}, // channel -> number of top-level messages seen
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== undefined && c !== null) node.append(c);
  return node;
}

const ctx = {
  userName: (id) => state.workspace?.users.find((u) => u.id === id)?.name ?? (id === state.workspace?.bot.id ? state.workspace.bot.name : id),
  channelName: (id) => state.workspace?.channels.find((c) => c.id === id)?.name ?? id.toLowerCase(),
};

async function post(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json().catch(() => ({ ok: false, error: `HTTP ${res.status}` }));
  if (!json.ok) throw new Error(json.error || `HTTP ${res.status}`);
  return json;
}

// ---- Block Kit ----
function confirmDialog(confirm) {
  const dialog = $('confirm');
  $('confirm-title').textContent = confirm.title?.text ?? 'Are you sure?';
  $('confirm-text').replaceChildren(renderText(confirm.text, ctx));
  $('confirm-ok').textContent = confirm.confirm?.text ?? 'Yes';
  $('confirm-ok').className = confirm.style === 'danger' ? 'danger' : 'primary';
  $('confirm-deny').textContent = confirm.deny?.text ?? 'Cancel';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
  });
}

function button(element, block, message) {
  const b = el('button', { type: 'button', class: `btn ${element.style ?? ''}` }, renderPlain(element.text));
  b.addEventListener('click', async () => {
    if (element.url) return window.open(element.url, '_blank', 'noopener');
    if (element.confirm && !(await confirmDialog(element.confirm))) return;
    b.disabled = true;
    try {
      await post('/api/action', {
        user: state.user,
        channel: message.channel,
        messageTs: message.ts,
        ...(message.threadTs ? { threadTs: message.threadTs } : {}),
        actionId: element.action_id,
        blockId: block.block_id,
        value: element.value ?? '',
        buttonText: element.text?.text ?? '',
      });
    } catch (err) {
      note(`The click did not reach the bot: ${err.message}`);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

function element(e, block, message) {
  if (e.type === 'button') return button(e, block, message);
  if (e.type === 'image') return el('img', { src: e.image_url, alt: e.alt_text ?? '' });
  if (e.type === 'mrkdwn' || e.type === 'plain_text') return el('span', {}, renderText(e, ctx));
  return el('span', { class: 'unsupported' }, `[${e.type}]`);
}

function richText(block) {
  const out = el('div', { class: 'text' });
  for (const part of block.elements ?? []) {
    const text = (part.elements ?? []).map((x) => x.text ?? '').join('');
    out.append(part.type === 'rich_text_preformatted' ? el('pre', { class: 'code' }, text) : el('div', {}, text));
  }
  return out;
}

function renderBlock(block, message) {
  switch (block.type) {
    case 'header':
      return el('div', { class: 'block block-header', role: 'heading', 'aria-level': '3' }, renderPlain(block.text));
    case 'section': {
      const body = el('div', { class: 'text' });
      if (block.text) body.append(renderText(block.text, ctx));
      if (block.fields) body.append(el('div', { class: 'fields' }, ...block.fields.map((f) => el('div', {}, renderText(f, ctx)))));
      if (block.accessory) return el('div', { class: 'block section-with-accessory' }, body, element(block.accessory, block, message));
      return el('div', { class: 'block' }, body);
    }
    case 'context':
      return el('div', { class: 'block context' }, ...(block.elements ?? []).map((e) => element(e, block, message)));
    case 'divider':
      return el('hr', { class: 'divider' });
    case 'actions':
      return el('div', { class: 'block actions', role: 'group', 'aria-label': 'Actions' }, ...(block.elements ?? []).map((e) => element(e, block, message)));
    case 'image':
      return el('figure', { class: 'block block-image' }, el('img', { src: block.image_url, alt: block.alt_text ?? '' }));
    case 'rich_text':
      return richText(block);
    default:
      return el('div', { class: 'block unsupported' }, `[${block.type} block]`);
  }
}

function renderFiles(files) {
  return files.map((f) => {
    const open = el('button', { type: 'button', class: 'btn', 'aria-label': `Open file ${f.title || f.name}` }, 'Open');
    open.addEventListener('click', () => showFile(f));
    return el('div', { class: 'file' }, el('span', {}, '📄 ', f.title || f.name), open);
  });
}

async function showFile(f) {
  $('file-title').textContent = f.title || f.name;
  const body = $('file-body');
  body.replaceChildren('Loading…');
  $('file-viewer').showModal();
  const url = `/files/${encodeURIComponent(f.id)}`;
  if (/\.(png|svg|jpe?g|gif)$/i.test(f.name)) body.replaceChildren(el('img', { src: url, alt: f.title || f.name }));
  else body.replaceChildren(el('pre', { class: 'code' }, await (await fetch(url)).text()));
}

// ---- Messages ----
const time = (at) => new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

function renderMessage(m, { inThread }) {
  const human = m.user !== state.workspace.bot.id;
  const name = ctx.userName(m.user);
  const body = el('div', { class: 'body' });
  body.append(el('div', { class: 'meta' }, el('strong', {}, name), human ? null : el('span', { class: 'app-tag' }, 'APP'), el('time', { datetime: new Date(m.at).toISOString() }, time(m.at)), m.edited ? el('span', { class: 'edited' }, '(edited)') : null));
  if (m.onlyFor) body.append(el('div', { class: 'only-you' }, '👁 Only visible to you'));
  if (m.command) body.append(el('div', { class: 'text' }, el('code', {}, m.text)));
  else if (m.blocks?.length) for (const b of m.blocks) body.append(renderBlock(b, m));
  else body.append(el('div', { class: 'text' }, renderMrkdwn(m.text, ctx)));
  for (const a of m.attachments ?? []) {
    const att = el('div', { class: 'attachment' });
    if (a.color) att.style.borderLeftColor = /^#?[0-9a-f]{3,6}$/i.test(a.color) ? (a.color.startsWith('#') ? a.color : `#${a.color}`) : a.color === 'danger' ? '#e01e5a' : a.color === 'good' ? '#2eb67d' : '#ecb22e';
    if (a.blocks) for (const b of a.blocks) att.append(renderBlock(b, m));
    else if (a.text) att.append(el('div', { class: 'text' }, renderMrkdwn(a.text, ctx)));
    body.append(att);
  }
  if (m.files) body.append(...renderFiles(m.files));
  if (!inThread && !m.threadTs) {
    const replies = state.messages.filter((r) => r.channel === m.channel && r.threadTs === m.ts && (!r.onlyFor || r.onlyFor === state.user));
    if (replies.length) {
      const link = el('button', { type: 'button', class: 'replies' }, `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}`);
      link.addEventListener('click', () => openThread(m.channel, m.ts));
      body.append(link);
    }
  }
  return el('article', { class: `msg${m.onlyFor ? ' ephemeral' : ''}`, 'data-key': m.key, 'aria-label': `${name}${m.onlyFor ? ', only visible to you' : ''}` }, el('div', { class: `avatar${human ? ' human' : ''}`, 'aria-hidden': 'true' }, name[0].toUpperCase()), body);
}

const visible = (m) => !m.onlyFor || m.onlyFor === state.user;

/** Replaces only the messages whose content changed, so focus and scroll survive live updates. */
function renderList(container, list, opts) {
  const nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 80;
  const old = new Map([...container.children].map((n) => [n.dataset.key, n]));
  const nodes = list.map((m) => {
    const sig = JSON.stringify([m, opts.inThread, state.user, !opts.inThread && state.messages.filter((r) => r.threadTs === m.ts && r.channel === m.channel && visible(r)).length]);
    const prev = old.get(m.key);
    if (prev && prev.dataset.sig === sig) return prev;
    const node = renderMessage(m, opts);
    node.dataset.sig = sig;
    return node;
  });
  if (!list.length) container.replaceChildren(el('p', { class: 'empty' }, opts.empty));
  else if (nodes.length !== container.children.length || nodes.some((n, i) => container.children[i] !== n)) container.replaceChildren(...nodes);
  if (nearBottom || opts.scroll) container.scrollTop = container.scrollHeight;
}

function renderChannel(scroll = false) {
  const ch = state.workspace.channels.find((c) => c.id === state.channel);
  $('channel-name').textContent = `#${ch.name}`;
  $('channel-topic').textContent = ch.topic;
  $('composer-input').placeholder = `/k8s … in #${ch.name}`;
  const list = state.messages.filter((m) => m.channel === state.channel && !m.threadTs && visible(m));
  renderList($('messages'), list, { inThread: false, scroll, empty: 'No messages yet. Try /k8s help' });
  state.seen[state.channel] = state.messages.filter((m) => m.channel === state.channel && !m.threadTs && visible(m)).length;
  renderThread();
  renderChannels();
}

function renderThread() {
  const pane = $('thread');
  if (!state.thread) {
    pane.hidden = true;
    return;
  }
  pane.hidden = false;
  const parent = state.messages.find((m) => m.channel === state.thread.channel && m.ts === state.thread.ts && !m.threadTs);
  const replies = state.messages.filter((m) => m.channel === state.thread.channel && m.threadTs === state.thread.ts && visible(m));
  $('thread-title').textContent = `Thread in #${ctx.channelName(state.thread.channel)}`;
  renderList($('thread-messages'), parent ? [parent, ...replies] : replies, { inThread: true, empty: 'Nothing in this thread yet.' });
}

function openThread(channel, ts) {
  state.thread = { channel, ts };
  renderThread();
  $('thread-close').focus();
}

function renderChannels() {
  const list = $('channels');
  list.replaceChildren(
    ...state.workspace.channels.map((c) => {
      const count = state.messages.filter((m) => m.channel === c.id && !m.threadTs && visible(m)).length;
      const unread = c.id === state.channel ? 0 : Math.max(0, count - (state.seen[c.id] ?? 0));
      const b = el('button', { type: 'button', 'aria-current': c.id === state.channel ? 'true' : 'false', class: unread ? 'unread' : '', 'data-channel': c.name }, el('span', {}, `# ${c.name}`), unread ? el('span', { class: 'badge', 'aria-label': `${unread} unread` }, String(unread)) : null);
      b.addEventListener('click', () => {
        state.channel = c.id;
        localStorage.setItem('playground.channel', c.id);
        if (state.thread && state.thread.channel !== c.id) state.thread = null;
        renderChannel(true);
      });
      return el('li', {}, b);
    }),
  );
}

function note(text) {
  $('composer-note').textContent = text;
}

// ---- Cluster ----
function chaosButton(label, aria, body) {
  const b = el('button', { type: 'button', 'aria-label': aria }, label);
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      $('chaos-result').textContent = (await post('/api/chaos', body)).message;
    } catch (err) {
      $('chaos-result').textContent = err.message;
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

function renderCluster() {
  const c = state.cluster;
  if (!c) return;
  const deployments = $('deployments');
  deployments.replaceChildren(
    ...c.namespaces.map((ns) => {
      const ds = c.deployments.filter((d) => d.namespace === ns);
      return el('div', {}, el('div', { class: 'ns-title' }, ns), ...(ds.length ? ds.map((d) => el('div', { class: 'deploy' }, el('span', {}, d.name), el('span', { title: d.image }, `${d.ready}/${d.replicas} ready · ${d.image.split(':').pop()}`))) : [el('div', { class: 'deploy' }, el('em', {}, 'nothing deployed'))]));
    }),
  );
  const podRow = (p) => {
    const bad = p.reason || (p.phase !== 'Running' && p.phase !== 'Succeeded') || !p.ready;
    const row = el('div', { class: 'pod', 'data-pod': p.name }, el('div', { class: 'pod-line' }, el('span', {}, `${p.namespace}/${p.name}`), el('span', { class: `state ${bad ? 'bad' : 'ok'}` }, `${p.reason ?? p.phase}${p.restarts ? ` ↻${p.restarts}` : ''}`)));
    if (p.node && p.phase === 'Running') {
      row.append(el('div', { class: 'chaos' },
        chaosButton('OOM-kill', `OOM-kill pod ${p.name} in ${p.namespace}`, { action: 'oom', namespace: p.namespace, pod: p.name }),
        chaosButton('Crash-loop', `Make the image of ${p.name} crash-loop`, { action: 'crashloop', namespace: p.namespace, pod: p.name }),
        chaosButton('Unpullable', `Make the image of ${p.name} unpullable`, { action: 'unpullable', namespace: p.namespace, pod: p.name })));
    }
    return row;
  };
  const nodes = $('nodes');
  const pending = c.pods.filter((p) => !p.node);
  nodes.replaceChildren(
    ...c.nodes.map((n) => el('div', { class: `node${n.ready ? '' : ' down'}`, 'data-node': n.name },
      el('div', { class: 'node-head' }, el('span', {}, `${n.name} ${n.ready ? '' : '(NotReady)'}`),
        n.ready ? chaosButton('Take NotReady', `Take node ${n.name} NotReady`, { action: 'node-down', node: n.name }) : chaosButton('Bring back', `Make node ${n.name} Ready`, { action: 'node-up', node: n.name })),
      ...c.pods.filter((p) => p.node === n.name).map(podRow))),
    ...(pending.length ? [el('div', { class: 'node down' }, el('div', { class: 'node-head' }, 'Not scheduled'), ...pending.map(podRow))] : []),
  );
  $('chaos-more').replaceChildren(
    ...c.namespaces.filter((ns) => ns !== 'default').map((ns) => chaosButton(`Add a pod no node can fit (${ns})`, `Add an unschedulable pod in ${ns}`, { action: 'unschedulable', namespace: ns })),
    chaosButton('Heal: images and nodes work again', 'Heal images and nodes', { action: 'heal' }),
  );
}

// ---- Start ----
async function main() {
  state.workspace = await (await fetch('/api/workspace')).json();
  if (!state.workspace.users.some((u) => u.id === state.user)) state.user = state.workspace.users[0].id;
  if (!state.workspace.channels.some((c) => c.id === state.channel)) state.channel = state.workspace.channels[0].id;
  const select = $('user-select');
  select.replaceChildren(...state.workspace.users.map((u) => el('option', { value: u.id, selected: u.id === state.user }, `${u.name} (${u.role})`)));
  select.addEventListener('change', () => {
    state.user = select.value;
    localStorage.setItem('playground.user', state.user);
    renderChannel();
  });
  $('thread-close').addEventListener('click', () => {
    state.thread = null;
    renderThread();
    $('composer-input').focus();
  });
  $('composer').addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = $('composer-input');
    const raw = input.value.trim();
    if (!raw) return;
    const m = /^\/k8s(?:\s+|$)(.*)$/s.exec(raw);
    if (!m) {
      note('Only /k8s commands reach the bot here, e.g. /k8s help');
      return;
    }
    input.value = '';
    note('');
    try {
      await post('/api/command', { user: state.user, channel: state.channel, text: m[1] });
    } catch (err) {
      note(`The command did not reach the bot: ${err.message}`);
    }
  });
  const events = new EventSource('/api/events');
  events.addEventListener('feed', (e) => {
    state.messages = JSON.parse(e.data).messages;
    renderChannel();
  });
  events.addEventListener('cluster', (e) => {
    state.cluster = JSON.parse(e.data);
    renderCluster();
  });
  renderChannel(true);
  document.body.dataset.ready = 'true';
}

main().catch((err) => note(`The playground could not start: ${err.message}`));
