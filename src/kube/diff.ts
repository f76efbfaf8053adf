/**
 * What a change will do, as `kubectl diff` shows it: the live objects against
 * the server-side dry run (`dryRun=All`) of the exact write, minus what the
 * server sets by itself, with secret values masked, changed fields only. Pure.
 *
 * Use:
 *   const diff = diffChanges([{ kind: 'Deployment', name, namespace, before: live, after: dryRunResult }], { secretKeys });
 *   isEmptyDiff(diff)          // "no changes"
 *   diffDigest(diff)           // what approvers saw, to compare with a later recomputation
 *   renderDiff(diff)           // src/slack/views/diff.ts: the lines as chat shows them
 * A recorder (src/kube/dry-run.ts) collects the `ObjectChange`s for you when the
 * write helpers are called with `{ dryRun }`.
 */
import { createHash } from 'node:crypto';

/** One object a command touches: the live state and what the dry run says it becomes. */
export interface ObjectChange {
  kind: string;
  name: string;
  namespace?: string;
  /** The live object; undefined when the command creates it. */
  before?: unknown;
  /** The server's dry-run answer; undefined when the command deletes it. */
  after?: unknown;
}

export interface DiffLine {
  op: '-' | '+';
  /** `spec.template.spec.containers[web].image`; list items with a `name` are named, others numbered. */
  path: string;
  /** As shown: short, control characters visible, secrets as SECRET_MASK. Not yet escaped for Slack. */
  value: string;
  /** Set when the value is masked: a keyed fingerprint of it (never the value), so two different secrets digest differently. */
  fingerprint?: string;
}

export interface ObjectDiff {
  kind: string;
  name: string;
  namespace?: string;
  action: 'create' | 'update' | 'delete';
  lines: DiffLine[];
}

/** Only the objects that change; `objects` empty means "no changes". */
export interface Diff {
  objects: ObjectDiff[];
}

export interface DiffOptions {
  /** The app's `secretKeys`: their values in ConfigMaps and container env are masked. */
  secretKeys?: readonly string[];
  /**
   * Keyed hash (e.g. an HMAC with the bot's signing key) of a masked value, so the digest tells two
   * secret values apart without holding them. Without it, a masked change digests as "changed".
   */
  fingerprint?: (value: string) => string;
}

export const SECRET_MASK = '••••••';
/** A value longer than this is cut in the diff (the digest still sees the whole value). */
const MAX_VALUE_CHARS = 200;

/** Annotations the server or the bot's bookkeeping set on every write: not a change anyone decides on. */
export const NOISE_ANNOTATIONS: ReadonlySet<string> = new Set([
  'deployment.kubernetes.io/revision',
  'deprecated.daemonset.template.generation',
  'kubectl.kubernetes.io/last-applied-configuration',
  // The bot's own marks (render.ts; spelled out here, as render.ts sits above the write helpers this module serves).
  'k8s-chatops.io/request-id',
  'k8s-chatops.io/deployed-by',
  'k8s-chatops.io/deployed-from-channel',
  'kubernetes.io/change-cause',
]);
const NOISE_METADATA = ['managedFields', 'resourceVersion', 'generation', 'uid', 'creationTimestamp', 'selfLink'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Plain JSON (client-node objects hold Dates and undefined fields). */
function plain(value: unknown): Json | undefined {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as Json);
}

/** The object without server-set noise: status, bookkeeping metadata and annotations, allocated addresses, type meta. */
export function normalize(kind: string, value: unknown): Record<string, Json> | undefined {
  const obj = plain(value);
  if (!isObject(obj)) return undefined;
  const { status: _status, apiVersion: _apiVersion, kind: _kind, ...rest } = obj;
  const out: Record<string, Json> = rest;
  if (isObject(out.metadata)) {
    const metadata: Record<string, Json> = { ...out.metadata };
    for (const key of [...NOISE_METADATA, 'name', 'namespace']) Reflect.deleteProperty(metadata, key);
    if (isObject(metadata.annotations)) {
      const annotations = Object.fromEntries(Object.entries(metadata.annotations).filter(([k]) => !NOISE_ANNOTATIONS.has(k)));
      if (Object.keys(annotations).length) metadata.annotations = annotations;
      else Reflect.deleteProperty(metadata, 'annotations');
    }
    if (isObject(metadata.labels) && Object.keys(metadata.labels).length === 0) Reflect.deleteProperty(metadata, 'labels');
    if (Object.keys(metadata).length) out.metadata = metadata;
    else Reflect.deleteProperty(out, 'metadata');
  }
  // A Service's cluster IPs are allocated by the server (a dry-run create shows a fresh one each time).
  if (kind === 'Service' && isObject(out.spec)) {
    const { clusterIP: _ip, clusterIPs: _ips, ...spec } = out.spec;
    out.spec = spec;
  }
  return out;
}

/** Is the value at this path a secret? Secrets: every value; ConfigMaps: the app's secret keys; container env: the same keys. */
function isSecretPath(kind: string, segments: readonly string[], secretKeys: readonly string[]): boolean {
  if (kind === 'Secret') return (segments[0] === 'data' || segments[0] === 'stringData') && segments.length >= 2;
  if (kind === 'ConfigMap') return (segments[0] === 'data' || segments[0] === 'binaryData') && secretKeys.includes(segments[1] ?? '');
  // …containers[NAME].env[KEY].value — the env list is named by `name`.
  const envAt = segments.lastIndexOf('env');
  if (envAt >= 0 && segments[envAt + 2] === 'value') {
    const key = /^\[(.*)\]$/.exec(segments[envAt + 1] ?? '')?.[1];
    return key !== undefined && secretKeys.includes(key);
  }
  return false;
}

/** `.key`, or `["odd/key"]` when the key is not a plain word. */
function keySegment(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function joinPath(segments: readonly string[]): string {
  return segments.map((s, i) => (s.startsWith('[') ? s : i === 0 && /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(s) ? s : keySegment(s))).join('');
}

/** A list whose items all carry a distinct string `name` (containers, env, ports, volumes): matched by name. */
function namedItems(list: readonly Json[]): Map<string, Json> | undefined {
  const byName = new Map<string, Json>();
  for (const item of list) {
    if (!isObject(item) || typeof item.name !== 'string' || byName.has(item.name)) return undefined;
    byName.set(item.name, item);
  }
  return byName;
}

const scalarList = (v: Json[]) => v.every((x) => x === null || typeof x !== 'object');

/** A value as the diff shows it: words bare, anything else as JSON (quotes, escapes, control characters visible). */
export function formatValue(value: Json): string {
  let text: string;
  if (typeof value === 'string') {
    text =
      /^[A-Za-z0-9][\w./:@%+-]*$/.test(value) && !/^(true|false|null|yes|no|on|off|[-+]?[\d.]+(e\d+)?)$/i.test(value)
        ? value
        : JSON.stringify(value);
  } else {
    text = JSON.stringify(value);
  }
  // JSON leaves some invisible or line-breaking characters as they are.
  text = text.replace(/[\u2028\u2029\u0085]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

interface Walk {
  kind: string;
  secretKeys: readonly string[];
  fingerprint: ((value: string) => string) | undefined;
  lines: DiffLine[];
}

function emit(w: Walk, op: '-' | '+', segments: readonly string[], value: Json): void {
  const path = joinPath(segments);
  if (isSecretPath(w.kind, segments, w.secretKeys)) {
    const raw = typeof value === 'string' ? value : JSON.stringify(value);
    w.lines.push({ op, path, value: SECRET_MASK, fingerprint: w.fingerprint ? w.fingerprint(raw) : 'masked' });
    return;
  }
  w.lines.push({ op, path, value: formatValue(value) });
}

/** Every leaf of a value added or removed whole (a new container, a new object). */
function emitAll(w: Walk, op: '-' | '+', segments: readonly string[], value: Json): void {
  if (isObject(value) && Object.keys(value).length > 0 && !isSecretPath(w.kind, segments, w.secretKeys)) {
    for (const key of Object.keys(value).sort()) emitAll(w, op, [...segments, key], value[key]!);
    return;
  }
  if (Array.isArray(value) && value.length > 0 && !scalarList(value)) {
    const named = namedItems(value);
    value.forEach((item, i) => {
      if (!named) return emitAll(w, op, [...segments, `[${i}]`], item);
      // The item is named in its path: its `name` field would only repeat it.
      const { name, ...rest } = item as { name: string } & Record<string, Json>;
      emitAll(w, op, [...segments, `[${name}]`], Object.keys(rest).length ? rest : item);
    });
    return;
  }
  emit(w, op, segments, value);
}

const same = (a: Json | undefined, b: Json | undefined) => JSON.stringify(a) === JSON.stringify(b);

function walk(w: Walk, segments: string[], a: Json | undefined, b: Json | undefined): void {
  if (same(a, b)) return;
  if (a === undefined) return emitAll(w, '+', segments, b!);
  if (b === undefined) return emitAll(w, '-', segments, a);
  if (isObject(a) && isObject(b) && !isSecretPath(w.kind, segments, w.secretKeys)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) walk(w, [...segments, key], a[key], b[key]);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && !(scalarList(a) && scalarList(b))) {
    const namedA = namedItems(a);
    const namedB = namedItems(b);
    if (namedA && namedB) {
      for (const [name, item] of namedB) walk(w, [...segments, `[${name}]`], namedA.get(name), item);
      for (const [name, item] of namedA) if (!namedB.has(name)) walk(w, [...segments, `[${name}]`], item, undefined);
      return;
    }
    for (let i = 0; i < Math.max(a.length, b.length); i++) walk(w, [...segments, `[${i}]`], a[i], b[i]);
    return;
  }
  emit(w, '-', segments, a);
  emit(w, '+', segments, b);
}

/** The diff of each object: changed fields only, `-` before `+`; unchanged objects left out. */
export function diffChanges(changes: readonly ObjectChange[], opts: DiffOptions = {}): Diff {
  const objects: ObjectDiff[] = [];
  for (const change of changes) {
    const before = normalize(change.kind, change.before);
    const after = normalize(change.kind, change.after);
    if (!before && !after) continue;
    const action = !before ? 'create' : !after ? 'delete' : 'update';
    const w: Walk = { kind: change.kind, secretKeys: opts.secretKeys ?? [], fingerprint: opts.fingerprint, lines: [] };
    // A deleted object is one line in the header: every field goes.
    if (action !== 'delete') walk(w, [], before ?? {}, after ?? {});
    if (action === 'update' && w.lines.length === 0) continue;
    objects.push({
      kind: change.kind,
      name: change.name,
      ...(change.namespace ? { namespace: change.namespace } : {}),
      action,
      lines: w.lines,
    });
  }
  return { objects };
}

export const isEmptyDiff = (diff: Diff): boolean => diff.objects.length === 0;

/** A digest of the diff as shown (masked values by their fingerprint): equal digests, same change. */
export function diffDigest(diff: Diff): string {
  return createHash('sha256').update(JSON.stringify(diff.objects)).digest('hex').slice(0, 32);
}

/**
 * Merges the changes recorded for one command: several writes to one object
 * (a patch, then another) are one change from its first `before` to its last `after`.
 */
export function mergeChanges(changes: readonly ObjectChange[]): ObjectChange[] {
  const byKey = new Map<string, ObjectChange>();
  for (const c of changes) {
    const key = `${c.kind}/${c.namespace ?? ''}/${c.name}`;
    const seen = byKey.get(key);
    byKey.set(key, seen ? { ...seen, after: c.after } : c);
  }
  return [...byKey.values()];
}
