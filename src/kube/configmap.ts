import { PatchStrategy, setHeaderOptions, type V1ConfigMap } from '@kubernetes/client-node';
import type { ClusterClient } from './clusters.js';
import { fromKubeError } from './errors.js';
import { ANNOTATION_CONFIG_CHECKSUM, ANNOTATION_RESTARTED_AT } from './render.js';
import { write, type WriteOptions } from './dry-run.js';
import { readIfExists } from './apply.js';

/**
 * The app's ConfigMap as `config` edits it. Chat edits are merge patches under
 * their own field manager; `deploy` server-side-applies the keys of the bot's
 * config file under `k8s-chatops` with force. So a key set in chat that the
 * config file does not declare survives deploys, and a key the config file
 * declares goes back to the file's value on the next deploy.
 */

export const FIELD_MANAGER_CONFIG = 'k8s-chatops-config';
/** Keys are environment variable names: the ConfigMap is loaded with `envFrom`. */
export const CONFIG_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MAX_KEY_LENGTH = 253;
export const MAX_VALUE_BYTES = 4_096;
export const MAX_KEYS_PER_COMMAND = 20;
export const SECRET_MASK = '••••••';

export type ConfigChange = { action: 'set'; values: Record<string, string> } | { action: 'unset'; keys: string[] };

/** Slack HTML-escapes `&`, `<` and `>` in command text; values are stored as the user typed them. */
export function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function keyProblem(key: string): string | undefined {
  if (key.length > MAX_KEY_LENGTH) return `a key is at most ${MAX_KEY_LENGTH} characters`;
  if (!CONFIG_KEY.test(key)) return `\`${key.slice(0, 60)}\` is not a valid key: letters, digits and "_", not starting with a digit`;
  if (key === '__proto__') return '`__proto__` is reserved';
  return undefined;
}

/**
 * Validates the words after `set` (KEY=VALUE) or `unset` (KEY): either the
 * change, or what is wrong in words a user can act on.
 */
export function parseConfigChange(action: 'set' | 'unset', words: readonly string[]): { change: ConfigChange } | { problem: string } {
  if (words.length === 0) return { problem: action === 'set' ? 'give at least one KEY=VALUE' : 'give at least one KEY' };
  if (words.length > MAX_KEYS_PER_COMMAND) return { problem: `at most ${MAX_KEYS_PER_COMMAND} keys per command` };
  const seen = new Set<string>();
  if (action === 'unset') {
    for (const key of words) {
      if (key.includes('=')) return { problem: `\`unset\` takes keys only, not KEY=VALUE (\`${key.split('=')[0]!.slice(0, 60)}\`)` };
      const problem = keyProblem(key);
      if (problem) return { problem };
      if (seen.has(key)) return { problem: `\`${key}\` is given twice` };
      seen.add(key);
    }
    return { change: { action, keys: [...seen] } };
  }
  const values: Record<string, string> = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) {
      return { problem: `\`${word.slice(0, 60)}\` is not KEY=VALUE (values cannot contain spaces: each word is one KEY=VALUE)` };
    }
    const key = word.slice(0, eq);
    const problem = keyProblem(key);
    if (problem) return { problem };
    if (seen.has(key)) return { problem: `\`${key}\` is given twice` };
    seen.add(key);
    const value = unescapeSlack(word.slice(eq + 1));
    if (Buffer.byteLength(value, 'utf8') > MAX_VALUE_BYTES)
      return { problem: `the value of \`${key}\` is longer than ${MAX_VALUE_BYTES} bytes` };
    values[key] = value;
  }
  return { change: { action, values } };
}

export interface KeyChange {
  key: string;
  /** Absent: the key did not exist. */
  before?: string;
  /** Absent: the key is removed. */
  after?: string;
}

/** The keys whose value actually changes, in the order given. */
export function diffConfig(current: Readonly<Record<string, string>>, change: ConfigChange): KeyChange[] {
  const has = (key: string) => Object.hasOwn(current, key);
  if (change.action === 'unset') {
    return change.keys.filter(has).map((key) => ({ key, before: current[key]! }));
  }
  return Object.entries(change.values)
    .filter(([key, value]) => !has(key) || current[key] !== value)
    .map(([key, after]) => (has(key) ? { key, before: current[key]!, after } : { key, after }));
}

/** The merge patch making `changes` (null removes a key). */
export function configPatch(changes: readonly KeyChange[]): { data: Record<string, string | null> } {
  return { data: Object.fromEntries(changes.map((c) => [c.key, c.after ?? null])) };
}

/** A value as chat shows it: secrets masked, control characters visible, long values cut. */
export function displayValue(key: string, value: string, secretKeys: readonly string[], max = 200): string {
  if (secretKeys.includes(key)) return SECRET_MASK;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is made visible
  const visible = value.replace(/[\u0000-\u001f\u007f]/g, (c) =>
    c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return visible.length > max ? `${visible.slice(0, max - 1)}…` : visible;
}

/** `KEY=value` lines, sorted by key, secrets masked. */
export function configLines(data: Readonly<Record<string, string>>, secretKeys: readonly string[]): string[] {
  return Object.keys(data)
    .sort()
    .map((key) => `${key}=${displayValue(key, data[key]!, secretKeys)}`);
}

/** Reads the app's ConfigMap; a missing one is a not-found error with `hint`. */
export async function readConfigMap(cluster: ClusterClient, namespace: string, name: string, hint: string): Promise<V1ConfigMap> {
  try {
    return await cluster.core.readNamespacedConfigMap({ name, namespace });
  } catch (err) {
    throw fromKubeError(err, `configmap ${name} in namespace ${namespace}`, hint);
  }
}

/** Merge-patches the ConfigMap's data under the `config` verb's own field manager. */
export async function patchConfigMap(
  cluster: ClusterClient,
  namespace: string,
  name: string,
  changes: readonly KeyChange[],
  opts?: WriteOptions,
): Promise<V1ConfigMap> {
  try {
    return await write(
      opts,
      { kind: 'ConfigMap', name, namespace },
      () => readIfExists(`configmap ${name} in namespace ${namespace}`, () => cluster.core.readNamespacedConfigMap({ name, namespace })),
      (dry) =>
        cluster.core.patchNamespacedConfigMap(
          { name, namespace, body: configPatch(changes), fieldManager: FIELD_MANAGER_CONFIG, ...dry },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        ),
    );
  } catch (err) {
    throw fromKubeError(err, `configmap ${name} in namespace ${namespace}`);
  }
}

/**
 * The pod template patch (strategic merge) that stamps the ConfigMap's checksum,
 * so the pods roll and load the new data; `restartedAt` also restarts them when
 * the stamp would not change.
 */
export function configChecksumPatch(sum: string, restartedAt?: string): object {
  const annotations = { [ANNOTATION_CONFIG_CHECKSUM]: sum, ...(restartedAt ? { [ANNOTATION_RESTARTED_AT]: restartedAt } : {}) };
  return { spec: { template: { metadata: { annotations } } } };
}
