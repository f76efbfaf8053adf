import type { AuditLog } from '../audit/index.js';
import type { Logger } from '../log.js';
import type { TamperedRecordError } from './signing.js';

/** Who a refused record claims to come from: unverified, recorded only to trace the forgery. */
export interface ClaimedOrigin {
  verb?: string;
  userId?: string;
  channelId?: string;
  env?: string;
  app?: string;
}

/**
 * A record in Redis failed its signature: someone who can reach Redis wrote or
 * edited it. It is never acted on; ops learn of it in the log (error) and the audit trail.
 */
export async function reportTampered(
  deps: { audit: AuditLog; log: Logger },
  err: TamperedRecordError,
  claimed: ClaimedOrigin = {},
): Promise<void> {
  const clip = (v: unknown) => (typeof v === 'string' ? v.slice(0, 64) : undefined);
  deps.log.error(
    { kind: err.kind, ref: err.ref, claimedUser: clip(claimed.userId), claimedChannel: clip(claimed.channelId) },
    'refused a record that failed signature verification (forged or edited in Redis); nothing was run',
  );
  await deps.audit.record({
    outcome: 'refused_tampered',
    verb: clip(claimed.verb) ?? err.kind,
    command: `(${err.kind} failed signature verification)`,
    userId: clip(claimed.userId) ?? 'unknown',
    channelId: clip(claimed.channelId) ?? 'unknown',
    ...(clip(claimed.env) ? { env: clip(claimed.env)! } : {}),
    ...(clip(claimed.app) ? { app: clip(claimed.app)! } : {}),
    ref: err.ref.slice(0, 80),
    detail: `the ${err.kind} record failed signature verification: it was written or changed by something other than the bot; refused, nothing run`,
  });
}
