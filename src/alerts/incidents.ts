/**
 * Incident state in Redis, one incident per channel × workload × kind: the
 * Slack message it lives in, how many times it happened, what the thread has
 * shown, the restart number last alerted per pod and container, silence and
 * recovery. Every change is one atomic script, so a restart of the bot neither
 * re-alerts nor forgets, and two watchers (a leader hand-over) cannot both count
 * the same occurrence.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AlertKind } from '../config/schema.js';
import type { WorkloadRef } from './detect.js';
import { LuaScript } from './lua.js';
import type { IncidentView, Occurrence } from './messages.js';

/** A silence to announce in the incident's thread: for how long (`1h`, as chosen or typed), until, who, and the command's id and reason. */
export interface SilenceNote {
  choice: string;
  until: number;
  by: string;
  id?: string;
  reason?: string;
}

export interface IncidentKey {
  channel: string;
  cluster: string;
  namespace: string;
  env: string;
  workload: WorkloadRef;
  kind: AlertKind;
  /** A node incident's condition (Ready, MemoryPressure…): one incident per node × condition. */
  condition?: string;
}

/** Stable id of an incident key: hex, safe as a BullMQ job id, a button value and a Redis key part. */
export function incidentId(k: IncidentKey): string {
  return createHash('sha1')
    .update(
      JSON.stringify([k.channel, k.cluster, k.namespace, k.workload.kind, k.workload.name, k.kind, ...(k.condition ? [k.condition] : [])]),
    )
    .digest('hex')
    .slice(0, 24);
}

export interface IncidentState extends IncidentView {
  channel: string;
  /** Generation: a new one starts when an occurrence follows a recovery (a new top-level message). */
  gen: number;
  /** The top-level message, once posted. */
  ts?: string;
  /** Render key of what the top-level message shows now (see `renderKey`). */
  shown?: string;
  /** When the top-level message was last posted or updated (ms). */
  updatedAt: number;
  /** Occurrences (absolute index) already in the headline or the thread. */
  threaded: number;
  /** Occurrences trimmed from the stored list (still counted). */
  occBase: number;
  recoveredNoted: boolean;
  healthyForMs?: number;
  /** A silence to announce in the thread. */
  silenceNote?: SilenceNote;
  /** A silence lifted by command (`unsilence`), to announce in the thread. */
  liftNote?: { by: string; id: string };
  recoverAfterMs: number;
  /** A node incident's condition. */
  condition?: string;
  /** Reopened after a recovery the thread announced: say so in the thread. */
  reopenedAt?: number;
  /** The occurrence count and the proposal the offered fix was made for (it is worked out again when either changes). */
  fixFor?: { count: number; key: string };
}

/** The stored form of an incident's fix (hash field `fix`). */
interface StoredFix {
  count: number;
  key: string;
  note?: string;
  text?: string;
  intent?: string;
}

/**
 * KEYS: incident, occurrences, seen (per pod), open set, first-post waiters of the channel.
 * ARGV: seen field, occurrence number, now, occurrence JSON, max stored occurrences,
 *       seen TTL (s), incident id, reopen-within (ms), incident TTL (s), then static field/value pairs.
 * Returns {recorded (0/1), isNew (0/1), count, gen, reopened (0/1)}.
 * A recovered incident whose recovery is younger than reopen-within is reopened
 * in place (same generation, message and thread); an older one starts a new generation.
 */
const RECORD = new LuaScript(`
local prev = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '-1')
if prev >= tonumber(ARGV[2]) then return {0, 0, 0, 0, 0} end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[3], tonumber(ARGV[6]))
local now = tonumber(ARGV[3])
local status = redis.call('HGET', KEYS[1], 'status')
local recoveredAt = tonumber(redis.call('HGET', KEYS[1], 'recoveredAt') or '0')
local isNew = 0
local reopened = 0
if status == 'recovered' and now - recoveredAt <= tonumber(ARGV[8]) then
  if redis.call('HGET', KEYS[1], 'recoveredNoted') == '1' then redis.call('HSET', KEYS[1], 'reopened', ARGV[3]) end
  redis.call('HDEL', KEYS[1], 'recoveredAt', 'healthyFor')
  redis.call('HSET', KEYS[1], 'status', 'open', 'recoveredNoted', 0, 'last', ARGV[4])
  redis.call('SADD', KEYS[4], ARGV[7])
  reopened = 1
elseif status ~= 'open' then
  redis.call('HINCRBY', KEYS[1], 'gen', 1)
  redis.call('HDEL', KEYS[1], 'ts', 'shown', 'updatedAt', 'count', 'recoveredAt', 'recoveredNoted', 'healthyFor', 'last', 'intent', 'reopened', 'fix')
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'status', 'open', 'firstAt', ARGV[3], 'head', ARGV[4], 'threaded', 1, 'occBase', 0)
  for i = 10, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
  redis.call('SADD', KEYS[4], ARGV[7])
  redis.call('ZADD', KEYS[5], ARGV[3], ARGV[7])
  isNew = 1
else
  redis.call('HSET', KEYS[1], 'last', ARGV[4])
end
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSET', KEYS[1], 'lastAt', ARGV[3])
redis.call('RPUSH', KEYS[2], ARGV[4])
local over = redis.call('LLEN', KEYS[2]) - tonumber(ARGV[5])
if over > 0 then
  redis.call('LTRIM', KEYS[2], over, -1)
  redis.call('HINCRBY', KEYS[1], 'occBase', over)
end
local ttl = tonumber(ARGV[9])
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('EXPIRE', KEYS[5], ttl)
return {1, isNew, count, tonumber(redis.call('HGET', KEYS[1], 'gen')), reopened}
`);

/** KEYS: incident. ARGV: gen, then field/value pairs. Sets them only if the generation is still `gen`. */
const SET_IF_GEN = new LuaScript(`
if redis.call('HGET', KEYS[1], 'gen') ~= ARGV[1] then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
`);

/** KEYS: incident, open set. ARGV: gen, now, healthy-for ms, id. */
const RECOVER = new LuaScript(`
if redis.call('HGET', KEYS[1], 'status') ~= 'open' or redis.call('HGET', KEYS[1], 'gen') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'status', 'recovered', 'recoveredAt', ARGV[2], 'healthyFor', ARGV[3])
redis.call('SREM', KEYS[2], ARGV[4])
return 1
`);

export interface RecordResult {
  recorded: boolean;
  isNew: boolean;
  /** A recent recovery was undone: the same message and thread carry on. */
  reopened: boolean;
  count: number;
  gen: number;
}

export interface IncidentStoreOptions {
  /** Occurrences kept per incident for the thread (older ones stay counted). Default 200. */
  maxOccurrences?: number;
  /** How long the restart numbers alerted for a pod are remembered. Default 7 days. */
  seenTtlSeconds?: number;
  /** An incident and its occurrences are forgotten this long after its last occurrence. Default 30 days. */
  incidentTtlSeconds?: number;
}

export class IncidentStore {
  private readonly base: string;
  private readonly maxOccurrences: number;
  private readonly seenTtl: number;
  private readonly incidentTtl: number;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    opts: IncidentStoreOptions = {},
  ) {
    this.base = `${prefix}:chatops:alerts`;
    this.maxOccurrences = opts.maxOccurrences ?? 200;
    this.seenTtl = opts.seenTtlSeconds ?? 7 * 86_400;
    this.incidentTtl = opts.incidentTtlSeconds ?? 30 * 86_400;
  }

  private incKey = (id: string) => `${this.base}:inc:${id}`;
  private occKey = (id: string) => `${this.base}:occ:${id}`;
  private seenKey = (podUid: string) => `${this.base}:seen:${podUid}`;
  private silenceKey = (id: string) => `${this.base}:silence:${id}`;
  private get openKey() {
    return `${this.base}:open`;
  }
  /** New incidents of a channel waiting for their top-level message (scored by creation time). */
  waitersKey(channel: string): string {
    return `${this.base}:first:${channel}`;
  }

  /** Incidents whose headline waits to show a new status (recovered, reopened, silenced): count-only updates yield to them. */
  get statusUpdatesKey(): string {
    return `${this.base}:status-updates`;
  }

  async statusUpdateWaiting(id: string, now: number): Promise<void> {
    await this.redis.zadd(this.statusUpdatesKey, 'NX', now, id);
  }

  async statusUpdateDone(id: string): Promise<void> {
    await this.redis.zrem(this.statusUpdatesKey, id);
  }

  /** Which of these (incident, container) occurrences were already recorded for the pod. */
  async alreadyRecorded(podUid: string, checks: ReadonlyArray<{ field: string; occurrence: number }>): Promise<boolean[]> {
    if (checks.length === 0) return [];
    const values = await this.redis.hmget(this.seenKey(podUid), ...checks.map((c) => c.field));
    return checks.map((c, i) => Number(values[i] ?? -1) >= c.occurrence);
  }

  /**
   * Counts an occurrence once: false if this pod's (incident, container) already
   * recorded this occurrence number or a later one. Opens a new generation (a new
   * top-level message) when the incident was recovered or never existed.
   */
  async record(
    key: IncidentKey,
    timing: { recoverAfterMs: number; reopenWithinMs: number },
    podUid: string,
    field: string,
    occurrence: number,
    occ: Occurrence,
    now: number,
  ): Promise<RecordResult & { id: string }> {
    const id = incidentId(key);
    const statics: Record<string, string> = {
      channel: key.channel,
      cluster: key.cluster,
      namespace: key.namespace,
      env: key.env,
      wkind: key.workload.kind,
      wname: key.workload.name,
      kind: key.kind,
      recoverAfter: String(timing.recoverAfterMs),
      ...(key.condition ? { cond: key.condition } : {}),
    };
    const res = (await RECORD.run(
      this.redis,
      [this.incKey(id), this.occKey(id), this.seenKey(podUid), this.openKey, this.waitersKey(key.channel)],
      [
        field,
        occurrence,
        now,
        JSON.stringify(occ),
        this.maxOccurrences,
        this.seenTtl,
        id,
        timing.reopenWithinMs,
        Math.max(this.incidentTtl, Math.ceil(timing.reopenWithinMs / 1_000) + 1),
        ...Object.entries(statics).flat(),
      ],
    )) as [number, number, number, number, number];
    return { id, recorded: res[0] === 1, isNew: res[1] === 1, count: res[2], gen: res[3], reopened: res[4] === 1 };
  }

  async load(id: string): Promise<IncidentState | undefined> {
    const [h, silenceRaw] = await Promise.all([this.redis.hgetall(this.incKey(id)), this.redis.get(this.silenceKey(id))]);
    if (!h.status || !h.head) return undefined;
    const silence = silenceRaw ? (JSON.parse(silenceRaw) as { until: number; by: string }) : undefined;
    const head = JSON.parse(h.head) as Occurrence;
    return {
      id,
      channel: h.channel ?? '',
      cluster: h.cluster ?? '',
      namespace: h.namespace ?? '',
      env: h.env ?? '',
      workload: { kind: h.wkind ?? 'Pod', name: h.wname ?? '?' },
      kind: h.kind as AlertKind,
      gen: Number(h.gen ?? 0),
      status: h.status === 'recovered' ? 'recovered' : 'open',
      count: Number(h.count ?? 0),
      firstAt: Number(h.firstAt ?? 0),
      lastAt: Number(h.lastAt ?? 0),
      head,
      ...(h.last ? { last: JSON.parse(h.last) as Occurrence } : {}),
      ...(h.ts ? { ts: h.ts } : {}),
      ...(h.shown ? { shown: h.shown } : {}),
      updatedAt: Number(h.updatedAt ?? 0),
      ...(h.intent ? { restartIntent: h.intent } : {}),
      ...fixOf(h.fix),
      threaded: Number(h.threaded ?? 1),
      occBase: Number(h.occBase ?? 0),
      recoveredNoted: h.recoveredNoted === '1',
      ...(h.recoveredAt ? { recoveredAt: Number(h.recoveredAt) } : {}),
      ...(h.healthyFor ? { healthyForMs: Number(h.healthyFor) } : {}),
      ...(silence ? { silence } : {}),
      ...(h.silenceNote ? { silenceNote: JSON.parse(h.silenceNote) as IncidentState['silenceNote'] } : {}),
      ...(h.liftNote ? { liftNote: JSON.parse(h.liftNote) as IncidentState['liftNote'] } : {}),
      ...(h.reopened ? { reopenedAt: Number(h.reopened) } : {}),
      recoverAfterMs: Number(h.recoverAfter ?? 0),
      ...(h.cond ? { condition: h.cond } : {}),
    };
  }

  /** Occurrences not yet in the thread: the latest `limit` of them, and how many more there are. */
  async pending(s: IncidentState, limit: number): Promise<{ occurrences: Occurrence[]; hidden: number; upTo: number }> {
    const upTo = s.count;
    const waiting = upTo - s.threaded;
    if (waiting <= 0) return { occurrences: [], hidden: 0, upTo };
    const firstStored = Math.max(s.threaded, s.occBase, upTo - limit);
    const raw = await this.redis.lrange(this.occKey(s.id), firstStored - s.occBase, upTo - s.occBase - 1);
    const occurrences = raw.map((r) => JSON.parse(r) as Occurrence);
    return { occurrences, hidden: waiting - occurrences.length, upTo };
  }

  /** Sets fields if the incident is still in generation `gen` (a recovery followed by a new occurrence starts another). */
  async update(id: string, gen: number, fields: Record<string, string | number>): Promise<boolean> {
    return (
      (await SET_IF_GEN.run(this.redis, [this.incKey(id)], [gen, ...Object.entries(fields).flatMap(([k, v]) => [k, String(v)])])) === 1
    );
  }

  async clearField(id: string, field: string): Promise<void> {
    await this.redis.hdel(this.incKey(id), field);
  }

  /** The incident's first message is out (or will not be posted): stop holding the channel's tokens for it. */
  async firstPostDone(channel: string, id: string): Promise<void> {
    await this.redis.zrem(this.waitersKey(channel), id);
  }

  async recover(id: string, gen: number, now: number, healthyForMs: number): Promise<boolean> {
    return (await RECOVER.run(this.redis, [this.incKey(id), this.openKey], [gen, now, healthyForMs, id])) === 1;
  }

  /** Open incidents (for a watcher taking over: recoveries to announce). Ids whose incident expired leave the set. */
  async openIncidents(): Promise<IncidentState[]> {
    const ids = await this.redis.smembers(this.openKey);
    const states = await Promise.all(ids.map((id) => this.load(id)));
    const gone = ids.filter((_, i) => states[i] === undefined);
    if (gone.length > 0) await this.redis.srem(this.openKey, ...gone);
    return states.filter((s): s is IncidentState => s !== undefined && s.status === 'open');
  }
}

/** The fix fields of a loaded incident, from the stored JSON (nothing when absent or unreadable). */
function fixOf(raw: string | undefined): Pick<IncidentState, 'fix' | 'fixFor'> {
  if (!raw) return {};
  try {
    const f = JSON.parse(raw) as StoredFix;
    return {
      fixFor: { count: f.count, key: f.key },
      ...(f.note ? { fix: { note: f.note, ...(f.text && f.intent ? { button: { text: f.text, intent: f.intent } } : {}) } } : {}),
    };
  } catch {
    return {};
  }
}

/** The `fix` field to store: the proposal (by key) made at this count, and its button's intent. */
export function storedFix(count: number, key: string, fix: { note: string; text?: string; intent?: string } | undefined): string {
  const stored: StoredFix = { count, key, ...(fix ?? {}) };
  return JSON.stringify(stored);
}

/** What the top-level message shows, as `count|the rest`: when this changes, the message is updated. */
export function renderKey(s: IncidentState, now: number): string {
  const silenced = s.silence && s.silence.until > now ? s.silence.until : 0;
  return [s.count, s.status, silenced, s.restartIntent ?? '', s.fix?.button?.intent ?? s.fix?.note.length ?? ''].join('|');
}

/** Do two render keys differ only in the count? (Count-only updates are paced; the rest is shown at once.) */
export function onlyCountChanged(shown: string, current: string): boolean {
  return shown.slice(shown.indexOf('|')) === current.slice(current.indexOf('|'));
}
