/**
 * Silences: the store the alert's Silence buttons and the `silence`, `silences`
 * and `unsilence` commands share. A silence quiets incidents (channel × workload
 * or node × kind): per incident id, a key with the silence's expiry as its Redis
 * TTL (what delivery reads, see incidents.ts), plus a record of the silence
 * (who, why, until, which incidents) with the same TTL and an index by expiry,
 * so `silences` can list them and `unsilence` lift one. Nothing needs cleaning
 * up: the keys expire by themselves and the index drops what has expired.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { appWorkload } from '../config/apps.js';
import { ownEntry } from '../config/lookup.js';
import type { AlertKind, Config } from '../config/schema.js';
import { CURRENT_CONTEXT } from '../kube/clusters.js';
import type { WorkloadRef } from './detect.js';
import { incidentId, type IncidentKey } from './incidents.js';
import { LuaScript } from './lua.js';
import { PRESSURE_CONDITIONS } from './node-health.js';
import { isNodeKind } from './routes.js';

export interface SilenceRecord {
  /** `sil-` and 8 hex digits: what `unsilence` takes. */
  id: string;
  /** What was silenced, as typed: an app's or a node's name. */
  target: string;
  workload: WorkloadRef;
  env: string;
  kind: AlertKind;
  /** Ms since the epoch. */
  until: number;
  by: string;
  /** The channel it was set from. */
  channel: string;
  reason?: string;
  createdAt: number;
  /** The incident ids it covers (one per alert channel, and per node condition). */
  incidents: string[];
  /** A node silence: the environments of the channels it covers that the silencer's channel may touch (who sees it, who may lift it). */
  environments?: string[];
}

/** The cluster name incidents of an environment are recorded under (as the alert watcher names its cluster). */
export function clusterNameOf(config: Config, env: string): string {
  return ownEntry(config.environments, env)?.cluster ?? CURRENT_CONTEXT;
}

/** What a silence covers: its incidents, the alert channels they are in, and (nodes) the channels it leaves out. */
export interface SilenceCoverage {
  workload: WorkloadRef;
  ids: string[];
  /** The alert channels whose incidents it covers, in rule order. */
  channels: string[];
  /** Node kinds: channels the node's alerts are routed to that the silencer's channel may not silence (none of their rule's environments is its). */
  outside: Array<{ channel: string; environments: string[] }>;
  /** The environments of the covered channels' rules that the silencer's channel may touch, in config order. */
  environments: string[];
}

/**
 * The incidents a silence of `name` (an app, or a node for node kinds) in `env`
 * for `kind` covers: one per channel (and per condition for NodePressure).
 * An app's: each channel of a rule that posts the kind for `env`. A node's: a
 * node is in no environment, and its incident is routed to every rule taking the
 * kind in its cluster (`env`'s), filed under whichever of the rule's environments
 * has pods there; so it covers each such channel whose rule has an environment in
 * `mayTouch` (the silencer's channel's environments, as the Silence button asks
 * for the incident's environment). Pure: from config only.
 */
export function silencedIncidents(
  config: Config,
  name: string,
  env: string,
  kind: AlertKind,
  mayTouch: readonly string[] = [env],
): SilenceCoverage {
  const envCfg = ownEntry(config.environments, env);
  const node = isNodeKind(kind);
  const app = node ? undefined : ownEntry(config.apps, name);
  const workload: WorkloadRef = node ? { kind: 'Node', name } : app ? appWorkload(name, app, env) : { kind: 'Deployment', name };
  const cluster = clusterNameOf(config, env);
  // Per channel taking the kind: the environments its rules route it for (a node's: those in its cluster).
  const routed = new Map<string, Set<string>>();
  for (const rule of config.alerts) {
    if (!rule.on.includes(kind)) continue;
    const envs = node
      ? rule.environments.filter((e) => ownEntry(config.environments, e) && clusterNameOf(config, e) === cluster)
      : rule.environments.filter((e) => e === env);
    if (envs.length > 0) routed.set(rule.channel, new Set([...(routed.get(rule.channel) ?? []), ...envs]));
  }
  const channels: string[] = [];
  const outside: SilenceCoverage['outside'] = [];
  const covered = new Set<string>();
  for (const [channel, envs] of routed) {
    const touched = [...envs].filter((e) => mayTouch.includes(e));
    if (touched.length > 0) channels.push(channel);
    else outside.push({ channel, environments: [...envs] });
    for (const e of touched) covered.add(e);
  }
  const conditions: Array<string | undefined> =
    kind === 'NodeNotReady' ? ['Ready'] : kind === 'NodePressure' ? [...PRESSURE_CONDITIONS] : [undefined];
  const ids: string[] = [];
  for (const channel of channels) {
    for (const condition of conditions) {
      const key: IncidentKey = {
        channel,
        cluster,
        namespace: node ? '' : (envCfg?.namespace ?? ''),
        env,
        workload: { kind: workload.kind, name: workload.name },
        kind,
        ...(condition ? { condition } : {}),
      };
      ids.push(incidentId(key));
    }
  }
  const environments = Object.keys(config.environments).filter((e) => covered.has(e));
  return { workload: { kind: workload.kind, name: workload.name }, ids, channels, outside: node ? outside : [], environments };
}

/**
 * KEYS: record, index, then per incident: its silence key, its incident hash.
 * ARGV: record JSON, id, until, ttl ms, note JSON, silence JSON.
 * Returns the positions (1-based) of incidents that are open: their thread gets the note.
 */
const SET = new LuaScript(`
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
local open = {}
for i = 3, #KEYS, 2 do
  redis.call('SET', KEYS[i], ARGV[6], 'PX', ARGV[4])
  if redis.call('HGET', KEYS[i + 1], 'status') == 'open' and redis.call('HEXISTS', KEYS[i + 1], 'ts') == 1 then
    redis.call('HSET', KEYS[i + 1], 'silenceNote', ARGV[5])
    table.insert(open, (i - 1) / 2)
  end
end
return open
`);

/**
 * KEYS: record, index, then per incident: its silence key, its incident hash. ARGV: id, note JSON.
 * Lifts only what this silence set. Returns {0} when it is gone, else {1, positions (1-based) of the
 * open incidents it had silenced: their thread gets the note}.
 */
const LIFT = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
local out = {1}
for i = 3, #KEYS, 2 do
  local v = redis.call('GET', KEYS[i])
  if v and string.find(v, '"sid":"' .. ARGV[1] .. '"', 1, true) then
    redis.call('DEL', KEYS[i])
    if redis.call('HGET', KEYS[i + 1], 'status') == 'open' and redis.call('HEXISTS', KEYS[i + 1], 'ts') == 1 then
      redis.call('HSET', KEYS[i + 1], 'liftNote', ARGV[2])
      table.insert(out, (i - 1) / 2)
    end
  end
end
return out
`);

export class SilenceStore {
  private readonly base: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.base = `${prefix}:chatops:alerts`;
  }

  private recKey = (id: string) => `${this.base}:silences:rec:${id}`;
  private get indexKey() {
    return `${this.base}:silences`;
  }
  private silenceKey = (incident: string) => `${this.base}:silence:${incident}`;
  private incKey = (incident: string) => `${this.base}:inc:${incident}`;

  /**
   * Stores the silence (expiring at `until`) and asks for a note in the thread of
   * each covered incident that has a message: returns those incident ids.
   */
  async set(
    s: Omit<SilenceRecord, 'id' | 'createdAt'>,
    now: number,
    note: { choice: string },
  ): Promise<{ record: SilenceRecord; noted: string[] }> {
    const record: SilenceRecord = { ...s, id: `sil-${randomBytes(4).toString('hex')}`, createdAt: now };
    const ttl = Math.max(1, s.until - now);
    const keys = [this.recKey(record.id), this.indexKey, ...s.incidents.flatMap((i) => [this.silenceKey(i), this.incKey(i)])];
    const open = (await SET.run(this.redis, keys, [
      JSON.stringify(record),
      record.id,
      s.until,
      ttl,
      JSON.stringify({ choice: note.choice, until: s.until, by: s.by, id: record.id, ...(s.reason ? { reason: s.reason } : {}) }),
      JSON.stringify({ until: s.until, by: s.by, sid: record.id }),
    ])) as number[];
    return { record, noted: open.map((i) => s.incidents[i - 1]).filter((i): i is string => i !== undefined) };
  }

  /** Silences in force, soonest to expire first (expired ones leave the index). */
  async list(now: number): Promise<SilenceRecord[]> {
    await this.redis.zremrangebyscore(this.indexKey, '-inf', now);
    const ids = await this.redis.zrangebyscore(this.indexKey, now, '+inf', 'LIMIT', 0, 500);
    if (ids.length === 0) return [];
    const raw = await this.redis.mget(...ids.map(this.recKey));
    return raw.flatMap((r) => (r ? [JSON.parse(r) as SilenceRecord] : []));
  }

  async get(id: string): Promise<SilenceRecord | undefined> {
    const raw = await this.redis.get(this.recKey(id));
    return raw ? (JSON.parse(raw) as SilenceRecord) : undefined;
  }

  /**
   * Lifts the silence (`by` lifted it) and asks for a note in the thread of each open incident it
   * silenced: `lifted` false if it had expired or was lifted already; `noted` those incident ids.
   */
  async lift(record: SilenceRecord, by: string): Promise<{ lifted: boolean; noted: string[] }> {
    const keys = [this.recKey(record.id), this.indexKey, ...record.incidents.flatMap((i) => [this.silenceKey(i), this.incKey(i)])];
    const [lifted, ...open] = (await LIFT.run(this.redis, keys, [record.id, JSON.stringify({ by, id: record.id })])) as number[];
    return { lifted: lifted === 1, noted: open.map((i) => record.incidents[i - 1]).filter((i): i is string => i !== undefined) };
  }
}
