import { createHmac, timingSafeEqual } from 'node:crypto';
import { Sealer } from './sealing.js';

/**
 * Redis is shared ground: anything able to reach it could queue a forged job or
 * edit an approval. Everything the bot later acts on (job payloads, approval
 * records, button intents, alert actions) is signed with HMAC-SHA256 when written
 * and verified when read; a record that fails is refused, never run.
 *
 * The key comes from CHATOPS_SIGNING_KEY (shared by every replica). During a
 * rotation, CHATOPS_SIGNING_KEY_PREVIOUS still verifies what the old key signed;
 * new records are always signed with the current key.
 */

/** What a signature is over; part of the MAC so a record of one kind cannot pass for another. */
/** `diff-secret`: a keyed fingerprint of a masked value in a diff (the value itself is never kept); `approver`: one member of an approval's approvers set. */
export type SignedKind = 'job' | 'approval' | 'approver' | 'intent' | 'alert-job' | 'canary' | 'bluegreen' | 'diff-secret';

export const SIGNATURE_VERSION = 'v1';

/** The minimum key length, in characters (e.g. `openssl rand -base64 32` gives 44). */
export const MIN_SIGNING_KEY_LENGTH = 32;

export interface SigningKeys {
  current: string;
  previous?: string;
}

/** JSON with object keys sorted (and undefined fields dropped), so a record's signature survives a round trip through Redis. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && typeof v !== 'function')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export class Signer {
  private readonly keys: Buffer[];
  /** Encrypts secret values kept in Redis, with keys derived from the same secrets. */
  readonly sealer: Sealer;

  constructor(keys: SigningKeys) {
    if (keys.current.length < MIN_SIGNING_KEY_LENGTH) throw new Error(`signing key must be at least ${MIN_SIGNING_KEY_LENGTH} characters`);
    this.keys = [Buffer.from(keys.current), ...(keys.previous ? [Buffer.from(keys.previous)] : [])];
    this.sealer = new Sealer(keys);
  }

  private mac(key: Buffer, kind: SignedKind, value: unknown): Buffer {
    return createHmac('sha256', key)
      .update(`${SIGNATURE_VERSION}\u0000${kind}\u0000${canonicalJson(value)}`)
      .digest();
  }

  /** `v1.<base64url mac>` over the value's canonical JSON, with the current key. */
  sign(kind: SignedKind, value: unknown): string {
    return `${SIGNATURE_VERSION}.${this.mac(this.keys[0]!, kind, value).toString('base64url')}`;
  }

  /** True if `signature` was made by the current or the previous key over this very value. */
  verify(kind: SignedKind, value: unknown, signature: unknown): boolean {
    if (typeof signature !== 'string' || !signature.startsWith(`${SIGNATURE_VERSION}.`)) return false;
    const given = Buffer.from(signature.slice(SIGNATURE_VERSION.length + 1), 'base64url');
    return this.keys.some((key) => {
      const expected = this.mac(key, kind, value);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
  }
}

/** A record read from Redis whose signature does not verify: refused, logged and audited by the caller. */
export class TamperedRecordError extends Error {
  constructor(
    readonly kind: SignedKind,
    readonly ref: string,
  ) {
    super(`${kind} record ${ref} failed signature verification`);
    this.name = 'TamperedRecordError';
  }
}
