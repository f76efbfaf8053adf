import type { Config } from '../config/schema.js';
import { canonicalJson, type Signer } from '../security/signing.js';
import type { Verb } from './types.js';

/**
 * Secret values in a command's arguments (a `config set` of a secret key) never sit
 * in Redis in clear: the job and the approval record carry the arguments masked
 * (`args`, what views and policy read) plus the real ones sealed (`sealedArgs`,
 * AES-GCM bound to the request id). Only the worker opens them, right before it
 * validates and runs; the job's copy is dropped when the job ends.
 */

export interface SplitArgs {
  args: Record<string, unknown>;
  sealedArgs?: string;
}

export function sealSecretArgs(verb: Verb, raw: Record<string, unknown>, config: Config, signer: Signer, requestId: string): SplitArgs {
  const masked = verb.maskSecrets?.(raw, config);
  if (!masked) return { args: raw };
  return { args: masked, sealedArgs: signer.sealer.seal(raw, requestId) };
}

/**
 * The real arguments of a job or approval record: its `args` when nothing was sealed,
 * else the sealed ones — which must open under this request and mask to exactly the
 * (signed) `args`, or the record is refused (undefined).
 */
export function openSecretArgs(
  verb: Verb,
  record: { args: unknown; sealedArgs?: string | undefined },
  config: Config,
  signer: Signer,
  requestId: string,
): unknown {
  if (record.sealedArgs === undefined) return record.args;
  const opened = signer.sealer.open(record.sealedArgs, requestId);
  if (opened === null || typeof opened !== 'object' || Array.isArray(opened)) return undefined;
  const raw = opened as Record<string, unknown>;
  const masked = verb.maskSecrets?.(raw, config) ?? raw;
  return canonicalJson(masked) === canonicalJson(record.args) ? raw : undefined;
}
