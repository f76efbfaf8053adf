/** How `status` and `deploy` point out requests and limits set in chat, beside the bot's config's. Pure. */
import type { V1ResourceRequirements } from '@kubernetes/client-node';
import { overrideValues, type ResourceOverride } from '../../kube/workloads/resource-override.js';
import type { ResourceSettings } from '../../kube/workloads/set-resources.js';
import { escapeMrkdwn, mention } from '../blocks.js';
import { slackDate } from '../code-sections.js';

const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;

/** "memory limit 512Mi (config: 256Mi)" per value set in chat; "(as in the config)" when they agree. */
function values(override: ResourceOverride, config: V1ResourceRequirements | ResourceSettings | undefined): string {
  return overrideValues(override.settings, config)
    .map((v) => `${v.label} ${escapeMrkdwn(v.chat)} (${v.differs ? `config: ${escapeMrkdwn(v.config ?? 'none')}` : 'as in the config'})`)
    .join(', ');
}

/** The `status` line: who set what and when, each value beside the config's, and the way back. */
export function overrideStatusLine(
  app: string,
  env: string,
  override: ResourceOverride,
  config: V1ResourceRequirements | ResourceSettings | undefined,
): string {
  const by = override.by ? ` by ${SLACK_USER.test(override.by) ? mention(override.by) : escapeMrkdwn(override.by)}` : '';
  const at = override.at ? ` (${slackDate(Date.parse(override.at))})` : '';
  return `:pencil2: *Resources set from chat*${by}${at}: ${values(override, config)}. Every deploy to \`${env}\` keeps them; \`/k8s resources ${app} ${env} --reset\` goes back to the bot's config.`;
}

/** The `deploy` note: what it kept from chat and how to drop it. */
export function overrideDeployNote(
  app: string,
  env: string,
  override: ResourceOverride,
  config: V1ResourceRequirements | ResourceSettings | undefined,
): string {
  return `kept resources set from chat: ${values(override, config)} (\`resources ${app} ${env} --reset\` drops them)`;
}

/**
 * What a Deployment made from the serving pod template (a blue/green colour, a canary) says of the values set in
 * chat that it runs too: "runs the resources set from chat[ on <of>]: memory limit 512Mi (config: 256Mi)".
 */
export function overrideCarriedNote(
  override: ResourceOverride,
  config: V1ResourceRequirements | ResourceSettings | undefined,
  of?: string,
): string {
  return `runs the resources set from chat${of ? ` on ${escapeMrkdwn(of)}` : ''}: ${values(override, config)}`;
}
