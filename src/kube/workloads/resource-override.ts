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
