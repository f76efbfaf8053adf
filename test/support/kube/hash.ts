/** The controllers' name hashes: FNV-1a 32 encoded with apimachinery's rand.SafeEncodeString alphabet. */
import { stableStringify } from './store.js';

/** FNV-1a 32-bit */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** k8s.io/apimachinery rand.SafeEncodeString */
export function safeEncode(s: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let out = '';
  for (let i = 0; i < s.length; i++) out += alphabet[s.charCodeAt(i) % alphabet.length];
  return out;
}

/** Hash of any JSON value (key order and nulls ignored), plus an optional collision count. */
export function contentHash(v: unknown, collisionCount = 0): string {
  return safeEncode(String(fnv32a(stableStringify(v) + (collisionCount ? String(collisionCount) : ''))));
}
