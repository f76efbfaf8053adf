/**
 * The fix an alert offers, as data: for an OOMKill, a higher memory limit; for
 * a pod no node has room for, the request that would fit the node with the
 * most room. Pure: the numbers come from the diagnosis and what was read for
 * it (the observed peak, the largest node), the bounds from the config; the
 * button runs `resources` as the clicker (policy and approvals apply).
 */
import { appOwningWorkload, appWorkload } from '../config/apps.js';
import { appOf, environmentOf } from '../config/lookup.js';
import type { AlertKind, Config } from '../config/schema.js';
import { cpuMillis, formatCpu, formatMemory, memoryBytes, type Requests } from '../kube/capacity.js';
import { escapeMrkdwn } from '../slack/blocks.js';
import type { WorkloadRef } from './detect.js';
import type { Diagnosis, OomDiagnosis, UnschedulableDiagnosis } from './diagnose.js';
import { amount, raisedMemoryLimit, requestThatFits, roundCpuDown, roundMemoryDown } from './fix-math.js';

/** What an alert offers to fix: a line for the message, and a button running a command, when there is one. */
export interface AlertFix {
  note: string;
  button?: { text: string; command: string };
}

interface IncidentRef {
  kind: AlertKind;
  env: string;
  workload: WorkloadRef;
}

/** The configured app behind the workload, and the container `resources` changes, if the diagnosis is about it. */
function appContainer(config: Config, incident: IncidentRef) {
  const app = appOwningWorkload(config, incident.workload.kind, incident.workload.name);
  const appConfig = app === undefined ? undefined : appOf(config, app);
  if (app === undefined || !appConfig) return undefined;
  return { app, container: appWorkload(app, appConfig, incident.env).container };
}

/** What a fix is worked out from besides the diagnosis and the config, read by the delivery when a fix is due. */
export interface FixInputs {
  /** The highest memory (bytes) the OOMKilled container was seen using. */
  peakBytes?: number;
  /** The cluster's node with the most allocatable memory (a raise never goes above it); `unread`: the nodes could not be listed. */
  largestNode?: { name: string; memoryBytes: number } | 'unread';
  /**
   * Set when the workload gives the container a memory limit and no request, so its pods ask the
   * scheduler for their limit: the most free memory on a ready, schedulable node (and that node).
   */
  requestFollows?: { node?: string; freeBytes: number };
}

function oomFix(config: Config, incident: IncidentRef, d: OomDiagnosis, inputs: FixInputs): AlertFix | undefined {
  const target = appContainer(config, incident);
  if (!target || target.container !== d.container) return undefined;
  const env = incident.env;
  const command = (to: string) => `resources ${target.app} ${env} --memory-limit ${to}`;
  const node = inputs.largestNode;
  if (node === 'unread') {
    return {
      note: `No raise is offered for now: the nodes of \`${env}\`'s cluster could not be read, and a raised limit must fit the largest one. It is worked out again at the next kill; \`/k8s ${command('…')}\` sets one by hand.`,
    };
  }
  const max = environmentOf(config, env)?.limits?.maxMemory;
  const limitBytes = d.limit ? memoryBytes(d.limit) : undefined;
  const peakBytes = inputs.peakBytes;
  const follows = inputs.requestFollows;
  const nodeBytes = follows ? follows.freeBytes : node?.memoryBytes;
  const raise = raisedMemoryLimit({
    ...(limitBytes !== undefined ? { limitBytes } : {}),
    ...(peakBytes !== undefined ? { peakBytes } : {}),
    ...(max !== undefined ? { maxBytes: memoryBytes(max) } : {}),
    ...(nodeBytes !== undefined ? { nodeBytes } : {}),
  });
  if (raise.kind === 'unknown') return undefined;
  const limit = escapeMrkdwn(d.limit ?? '?');
  const where = follows
    ? `the most free memory on a node (${follows.node ? `\`${escapeMrkdwn(follows.node)}\`: ` : ''}${formatMemory(follows.freeBytes)} free)`
    : node
      ? `what the largest node of \`${env}\`'s cluster, \`${escapeMrkdwn(node.name)}\` (${formatMemory(node.memoryBytes)} allocatable) has`
      : '';
  const asksLimit = `\`${escapeMrkdwn(d.container)}\` sets no memory request, so its pods ask for their limit`;
  if (raise.kind === 'at-bound') {
    return {
      note: `The memory limit ${limit} is already at \`${env}\`'s bound (\`limits.maxMemory: ${max ?? '?'}\`), so no raise is offered: find what grows, or raise the bound in the bot's config.`,
    };
  }
  if (raise.kind === 'at-node') {
    const over = raise.over ? 'more than' : 'at';
    return {
      note: follows
        ? `The memory limit ${limit} is already ${over} ${where}, and ${asksLimit}: a higher one would leave them Pending, so no raise is offered. Set a memory request below the limit, or free memory or add a node.`
        : `The memory limit ${limit} is already ${over} ${where}, so no raise is offered: no node could give it more. Find what grows, or add a bigger node.`,
    };
  }
  const to = formatMemory(raise.bytes);
  const basis = raise.from === 'peak' ? `the observed peak ${formatMemory(peakBytes ?? 0)}` : `the limit ${limit}`;
  const how =
    raise.capped === 'bound'
      ? `capped at \`${env}\`'s bound (\`limits.maxMemory: ${max ?? '?'}\`)`
      : raise.capped === 'node'
        ? follows
          ? `capped at ${where}: ${asksLimit}, and 1.5 × ${basis} would leave them Pending`
          : `capped at ${where}; 1.5 × ${basis} would fit no node`
        : `1.5 × ${basis}, rounded up`;
  return {
    note: `*Raise memory limit to ${to}* (${how}) runs \`${command(to)}\` as you.`,
    button: { text: `Raise memory limit to ${to}`, command: command(to) },
  };
}

function unschedulableFix(config: Config, incident: IncidentRef, d: UnschedulableDiagnosis): AlertFix | undefined {
  const fit = d.fit;
  if (!fit || fit.scarce.length === 0) return undefined;
  const target = appContainer(config, incident);
  const own = target && fit.containers.find((c) => c.name === target.container);
  if (!target || !own) return undefined;
  if (!fit.node) return { note: 'No node can fit it: none is ready and schedulable with a free pod slot. Add a node or uncordon one.' };
  const podTotal: Requests = { cpuMillis: cpuMillis(d.requests.cpu), memoryBytes: memoryBytes(d.requests.memory) };
  const bounds = environmentOf(config, incident.env)?.limits;
  const bound = (r: 'cpu' | 'memory') =>
    r === 'memory' ? (bounds?.maxMemory ? memoryBytes(bounds.maxMemory) : Infinity) : bounds?.maxCpu ? cpuMillis(bounds.maxCpu) : Infinity;
  const flags: string[] = [];
  const said: string[] = [];
  for (const r of fit.scarce) {
    const current = amount(own, r);
    const wanted = requestThatFits({ current, podTotal: amount(podTotal, r), room: amount(fit.room, r) });
    // Never above what `resources` may set in this environment (less fits too).
    const rounded = Math.min(r === 'memory' ? roundMemoryDown(wanted) : roundCpuDown(wanted), bound(r));
    // It fits by this resource already (capacity was freed since the scheduler tried).
    if (rounded >= current) continue;
    const format = r === 'memory' ? formatMemory : formatCpu;
    if (rounded <= 0) {
      return {
        note: `No node can fit it by lowering the ${r} request of \`${escapeMrkdwn(own.name)}\`: the node with the most room, \`${escapeMrkdwn(fit.node)}\`, has ${format(amount(fit.room, r))} ${r} free. Add a node or free capacity.`,
      };
    }
    flags.push(`--${r}-request ${format(rounded)}`);
    const capped = rounded === bound(r) ? `, \`${incident.env}\`'s bound` : '';
    said.push(`the ${r} request at ${format(rounded)} (now ${format(current)}${capped})`);
  }
  if (flags.length === 0) return undefined;
  const command = `resources ${target.app} ${incident.env} ${flags.join(' ')}`;
  const text =
    flags.length === 1
      ? `Lower ${fit.scarce.find((r) => flags[0]!.startsWith(`--${r}`))} request to ${flags[0]!.split(' ')[1]}`
      : 'Lower requests to fit';
  return {
    note: `It would fit \`${escapeMrkdwn(fit.node)}\`, the node with the most room, with ${said.join(' and ')}: *${text}* runs \`${command}\` as you.`,
    button: { text, command },
  };
}

/** The fix to offer for this incident's latest diagnosis, given what was read for it (the observed peak, the largest node). */
export function proposeFix(config: Config, incident: IncidentRef, d: Diagnosis, inputs: FixInputs = {}): AlertFix | undefined {
  if (d.kind === 'OOMKilled') return oomFix(config, incident, d, inputs);
  if (d.kind === 'Unschedulable') return unschedulableFix(config, incident, d);
  return undefined;
}
