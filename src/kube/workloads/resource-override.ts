/**
 * The per-environment resources override of a rendered app: what `resources`
 * set in chat (the workload's annotation, with who set it and when), how it
 * differs from the bot's config, and the patch that drops it and puts the
 * container back on the config's requests and limits (`resources --reset`).
 * Who and when sit in their own annotations, so the values' JSON stays as it was.
 * Pure: no cluster calls here.
 */
import type { V1ResourceRequirements } from '@kubernetes/client-node';
import { parseQuantity } from '../capacity.js';
import { ANNOTATION_RESOURCES, chatResources, mergeResources, type ResourceName, type ResourceSettings } from './set-resources.js';
import type { AnyWorkload } from './types.js';

type Side = 'requests' | 'limits';
const SIDES: readonly Side[] = ['requests', 'limits'];
const NAMES: readonly ResourceName[] = ['cpu', 'memory'];
type AnyResources = V1ResourceRequirements | ResourceSettings | undefined;

/** The override on a live workload: the values set in chat, and by whom (a Slack user id) and when (ISO time) if recorded. */
export interface ResourceOverride {
  settings: ResourceSettings;
  by?: string;
  at?: string;
}

/** Who set the override last (a Slack user id) and when (RFC 3339), beside the values' own annotation. */
export const ANNOTATION_RESOURCES_SET_BY = 'k8s-chatops.io/resources-set-by';
export const ANNOTATION_RESOURCES_SET_AT = 'k8s-chatops.io/resources-set-at';

/** The annotations that keep an override: the values, who set them and when. */
export function overrideAnnotations(settings: ResourceSettings, by: string, at: string): Record<string, string> {
  return { [ANNOTATION_RESOURCES]: JSON.stringify(settings), [ANNOTATION_RESOURCES_SET_BY]: by, [ANNOTATION_RESOURCES_SET_AT]: at };
}

/** The override a rendered workload carries, if any values were set in chat (who and when only if recorded). */
export function readOverride(obj: AnyWorkload | undefined): ResourceOverride | undefined {
  const settings = chatResources(obj);
  if (!settings.requests && !settings.limits) return undefined;
  const annotations = obj?.metadata?.annotations ?? {};
  const text = (v: string | undefined) => (v && v.length <= 64 ? v : undefined);
  const by = text(annotations[ANNOTATION_RESOURCES_SET_BY]);
  const at = text(annotations[ANNOTATION_RESOURCES_SET_AT]);
  return { settings, ...(by ? { by } : {}), ...(at && !Number.isNaN(Date.parse(at)) ? { at } : {}) };
}

/** Same quantity ("1Gi" and "1024Mi" are); unparseable ones compare as text. */
function sameQuantity(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  try {
    return parseQuantity(a) === parseQuantity(b);
  } catch {
    return a === b;
  }
}

/** One value set in chat beside the config's ("memory limit": 512Mi, config 256Mi or none). */
export interface OverrideValue {
  label: string;
  chat: string;
  config?: string;
  differs: boolean;
}

export function overrideValues(settings: ResourceSettings, config: AnyResources): OverrideValue[] {
  const cfg = mergeResources(config, undefined);
  const out: OverrideValue[] = [];
  for (const side of SIDES) {
    for (const name of NAMES) {
      const chat = settings[side]?.[name];
      if (chat === undefined) continue;
      const fromConfig = cfg[side]?.[name];
      out.push({
        label: `${name} ${side === 'requests' ? 'request' : 'limit'}`,
        chat,
        ...(fromConfig !== undefined ? { config: fromConfig } : {}),
        differs: !sameQuantity(chat, fromConfig),
      });
    }
  }
  return out;
}

/** The container's requests and limits as the config has them: each live value the config lacks removed (null). */
function resetValues(live: AnyResources, config: AnyResources): Partial<Record<Side, Record<string, string | null>>> {
  const now = mergeResources(live, undefined);
  const cfg = mergeResources(config, undefined);
  const out: Partial<Record<Side, Record<string, string | null>>> = {};
  for (const side of SIDES) {
    const keys = new Set([...Object.keys(now[side] ?? {}), ...Object.keys(cfg[side] ?? {})]);
    const values: Record<string, string | null> = {};
    for (const k of keys) values[k] = cfg[side]?.[k] ?? null;
    if (keys.size > 0) out[side] = values;
  }
  return out;
}

/** "memory limit 512Mi → 256Mi" for each live value that the config's differs from ("none" when one side lacks it). */
export function describeReset(live: AnyResources, config: AnyResources): string[] {
  const now = mergeResources(live, undefined);
  const cfg = mergeResources(config, undefined);
  const lines: string[] = [];
  for (const side of SIDES) {
    const keys = [...new Set([...Object.keys(now[side] ?? {}), ...Object.keys(cfg[side] ?? {})])].sort();
    for (const k of keys) {
      const from = now[side]?.[k];
      const to = cfg[side]?.[k];
      if (!sameQuantity(from, to)) lines.push(`${k} ${side === 'requests' ? 'request' : 'limit'} ${from ?? 'none'} → ${to ?? 'none'}`);
    }
  }
  return lines;
}

/**
 * `resources --reset`: a strategic merge patch that sets the container's requests
 * and limits to the config's (removing what the config does not set), drops the
 * override annotation, and sets our bookkeeping annotations.
 */
export function resetPatch(container: string, live: AnyResources, config: AnyResources, annotations: Record<string, string>): object {
  return {
    metadata: {
      annotations: {
        ...annotations,
        [ANNOTATION_RESOURCES]: null,
        [ANNOTATION_RESOURCES_SET_BY]: null,
        [ANNOTATION_RESOURCES_SET_AT]: null,
      },
    },
    spec: { template: { spec: { containers: [{ name: container, resources: resetValues(live, config) }] } } },
  };
}

const RECORD = [ANNOTATION_RESOURCES, ANNOTATION_RESOURCES_SET_BY, ANNOTATION_RESOURCES_SET_AT] as const;

/**
 * The override record a Deployment made from `source`'s pod template carries (a blue/green colour, a canary): its
 * pods run the same values, so it keeps the same record, verbatim — who set them and when included; {} when
 * `source` has none. With `readOverride`, the one way the app's override is known: the record on what serves.
 */
export function carriedOverride(source: AnyWorkload | undefined): Record<string, string> {
  if (!readOverride(source)) return {};
  const annotations = source?.metadata?.annotations ?? {};
  return Object.fromEntries(RECORD.flatMap((k) => (annotations[k] === undefined ? [] : [[k, annotations[k]]])));
}

/** What `leftoverPatch` removes, in words ("cpu limit 1", "the record of resources set from chat"); the patch; the same removal done on an object. */
export interface Leftovers {
  removed: string[];
  patch: object;
  /** `obj` (a copy) without them: what the apply's answer becomes once they are gone (a dry run's diff). */
  without<T extends AnyWorkload>(obj: T): T;
}

type Gone = Partial<Record<Side, Record<string, null>>>;

/**
 * A Deployment built again over an existing one (a blue/green colour used again): server-side apply leaves what
 * another field manager set there (a `resources` change while that colour served) when the new body lacks it. The
 * strategic merge patch that removes it first: each container's requests and limits the body does not set, and an
 * override record the body does not carry. Undefined when nothing would be left behind.
 */
export function leftoverPatch(existing: AnyWorkload, body: AnyWorkload): Leftovers | undefined {
  const removed: string[] = [];
  const containers: { name: string; resources: Gone }[] = [];
  const liveContainers = existing.spec?.template.spec?.containers ?? [];
  for (const wanted of body.spec?.template.spec?.containers ?? []) {
    const now = mergeResources(liveContainers.find((c) => c.name === wanted.name)?.resources, undefined);
    const next = mergeResources(wanted.resources, undefined);
    const resources: Gone = {};
    for (const side of SIDES) {
      const gone = Object.keys(now[side] ?? {}).filter((k) => next[side]?.[k] === undefined);
      if (gone.length === 0) continue;
      resources[side] = Object.fromEntries(gone.map((k) => [k, null]));
      for (const k of gone) removed.push(`${k} ${side === 'requests' ? 'request' : 'limit'} ${now[side]?.[k] ?? ''}`);
    }
    if (Object.keys(resources).length > 0) containers.push({ name: wanted.name, resources });
  }
  const liveAnnotations = existing.metadata?.annotations ?? {};
  const kept = body.metadata?.annotations ?? {};
  const stale = RECORD.filter((k) => liveAnnotations[k] !== undefined && kept[k] === undefined);
  if (stale.length > 0) removed.push('the record of resources set from chat');
  if (removed.length === 0) return undefined;
  const without = <T extends AnyWorkload>(obj: T): T => {
    const copy = structuredClone(obj);
    for (const k of stale) delete copy.metadata?.annotations?.[k];
    for (const { name, resources } of containers) {
      const c = copy.spec?.template.spec?.containers.find((x) => x.name === name);
      for (const side of SIDES) for (const k of Object.keys(resources[side] ?? {})) delete c?.resources?.[side]?.[k];
    }
    return copy;
  };
  return {
    removed,
    without,
    patch: {
      ...(stale.length ? { metadata: { annotations: Object.fromEntries(stale.map((k) => [k, null])) } } : {}),
      ...(containers.length ? { spec: { template: { spec: { containers } } } } : {}),
    },
  };
}
