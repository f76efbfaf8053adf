/**
 * Label keys, values and selectors, checked by Kubernetes' own rules before
 * anything reaches the API server. Pure.
 */

/** DNS-1123 subdomain: the optional prefix of a label key. */
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** The name part of a key, and a non-empty value. */
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Why a label key is invalid, or undefined when it is valid. */
export function labelKeyProblem(key: string): string | undefined {
  const shown = `\`${key.slice(0, 80)}\``;
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    if (prefix.length === 0) return `label key ${shown}: the prefix before "/" is empty`;
    if (prefix.length > 253) return `label key ${shown}: the prefix is at most 253 characters`;
    if (!DNS1123_SUBDOMAIN.test(prefix))
      return `label key ${shown}: the prefix must be a DNS subdomain (lowercase letters, digits, "-" and ".")`;
  }
  if (name.length === 0) return `label key ${shown}: the name is empty`;
  if (name.length > 63) return `label key ${shown}: the name is at most 63 characters`;
  if (!QUALIFIED_NAME.test(name)) {
    return `label key ${shown}: the name must be letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
  }
  return undefined;
}

/** Why a label value is invalid, or undefined when it is valid (the empty value is valid). */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  const shown = `\`${value.slice(0, 80)}\``;
  if (value.length > 63) return `label value ${shown}: at most 63 characters`;
  if (!QUALIFIED_NAME.test(value))
    return `label value ${shown}: letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
  return undefined;
}

export type LabelChange = { key: string; op: 'set'; value: string } | { key: string; op: 'remove' };

/** Labels that the kubelet, the cloud provider or the scheduler own: changing them breaks scheduling or is undone. */
const MANAGED_KEYS = new Set([
  'kubernetes.io/hostname',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'node.kubernetes.io/instance-type',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
]);
const MANAGED_PREFIXES = ['beta.kubernetes.io/', 'failure-domain.beta.kubernetes.io/', 'node-restriction.kubernetes.io/'];

export function isManagedNodeLabel(key: string): boolean {
  return MANAGED_KEYS.has(key) || MANAGED_PREFIXES.some((p) => key.startsWith(p));
}

/** Domains Kubernetes reserves for itself: kubelet, controllers and schedulers act on labels under them. */
const RESERVED_DOMAINS = ['kubernetes.io', 'k8s.io'];

/** Is the key under kubernetes.io/ or k8s.io/, or a subdomain of either (node-role.kubernetes.io/…)? */
export function isReservedLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return false;
  const prefix = key.slice(0, slash).toLowerCase();
  return RESERVED_DOMAINS.some((d) => prefix === d || prefix.endsWith(`.${d}`));
}

/** Why a change to this key is refused by the `nodeLabels.allow` policy, or undefined when it may go ahead. */
export function reservedLabelProblem(key: string, allow: readonly string[]): string | undefined {
  if (!isReservedLabelKey(key) || allow.includes(key)) return undefined;
  return `\`${key}\` is under a domain Kubernetes reserves (kubernetes.io, k8s.io): the kubelet, the scheduler and controllers act on it (a DaemonSet or load balancer may drop this node), so chat may not change it unless ops list it in \`nodeLabels.allow\``;
}

/** `key=value` sets, `key-` removes; keys and values follow Kubernetes' rules; a key appears once. */
export function parseLabelChanges(tokens: readonly string[]): { changes: LabelChange[]; problems: string[] } {
  const changes: LabelChange[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const token of tokens) {
    let change: LabelChange;
    const eq = token.indexOf('=');
    if (eq >= 0) change = { key: token.slice(0, eq), op: 'set', value: token.slice(eq + 1) };
    else if (token.endsWith('-')) change = { key: token.slice(0, -1), op: 'remove' };
    else {
      problems.push(`\`${token.slice(0, 80)}\` is neither \`key=value\` nor \`key-\``);
      continue;
    }
    const problem = labelKeyProblem(change.key) ?? (change.op === 'set' ? labelValueProblem(change.value) : undefined);
    if (problem) problems.push(problem);
    else if (isManagedNodeLabel(change.key))
      problems.push(`\`${change.key}\` is set by the kubelet or the cloud provider; changing it would break scheduling or be undone`);
    else if (seen.has(change.key)) problems.push(`label key \`${change.key}\` is given twice`);
    else {
      seen.add(change.key);
      changes.push(change);
    }
  }
  return { changes, problems };
}

/** Longest label selector accepted from chat. */
export const MAX_SELECTOR_LENGTH = 256;

/**
 * Checks a label selector as the API server parses one: comma-separated
 * `key`, `!key`, `key=value`, `key==value`, `key!=value`, `key in (a,b)`,
 * `key notin (a,b)`. Returns the problem, or undefined when valid.
 */
export function labelSelectorProblem(selector: string): string | undefined {
  if (selector.length > MAX_SELECTOR_LENGTH) return `the label selector is at most ${MAX_SELECTOR_LENGTH} characters`;
  const requirements: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0 || depth > 1) return 'unbalanced parentheses in the label selector';
    if (ch === ',' && depth === 0) {
      requirements.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (depth !== 0) return 'unbalanced parentheses in the label selector';
  requirements.push(current.trim());
  for (const req of requirements) {
    if (!req) return 'empty requirement in the label selector (stray comma?)';
    const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(req);
    if (set) {
      const values = set[3]!.split(',').map((v) => v.trim());
      if (values.every((v) => v === '')) return `\`${set[1]!.slice(0, 60)} ${set[2]} ()\` needs at least one value`;
      const problem = labelKeyProblem(set[1]!) ?? values.map(labelValueProblem).find(Boolean);
      if (problem) return problem;
      continue;
    }
    const cmp = /^([^!=\s]+)\s*(==|!=|=)\s*(\S*)$/.exec(req);
    if (cmp) {
      const problem = labelKeyProblem(cmp[1]!) ?? labelValueProblem(cmp[3]!);
      if (problem) return problem;
      continue;
    }
    const exists = /^(!?)\s*([^\s!=(),]+)$/.exec(req);
    if (exists) {
      const problem = labelKeyProblem(exists[2]!);
      if (problem) return problem;
      continue;
    }
    return `cannot read \`${req.slice(0, 60)}\` in the label selector (use key=value, key!=value, key, !key, key in (a,b) or key notin (a,b))`;
  }
  return undefined;
}
