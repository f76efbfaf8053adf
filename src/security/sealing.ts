import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Secret values a job needs later (a `config set` of a secret key) are kept in
 * Redis only encrypted: AES-256-GCM under a key derived (HKDF-SHA256) from
 * CHATOPS_SIGNING_KEY, so anyone able to read Redis reads no secret. During a
 * rotation, a key derived from CHATOPS_SIGNING_KEY_PREVIOUS still opens what the
 * old key sealed; new values are always sealed with the current key.
 *
 * `context` is authenticated with the value (AES-GCM additional data): a value
 * sealed for one request cannot be moved to another.
 */

export const SEALED_VERSION = 's1';
const INFO = 'k8s-chatops sealed values v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function deriveKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret), Buffer.alloc(0), INFO, 32));
}

export class Sealer {
  private readonly keys: Buffer[];

  constructor(keys: { current: string; previous?: string }) {
    this.keys = [deriveKey(keys.current), ...(keys.previous ? [deriveKey(keys.previous)] : [])];
  }

  /** `s1.<iv>.<ciphertext+tag>` (base64url) of the value's JSON, with the current key. */
  seal(value: unknown, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0]!, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${SEALED_VERSION}.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  /** The value sealed under this context by the current or previous key; undefined if it does not open (forged, other context, unknown key). */
  open(sealed: unknown, context: string): unknown {
    if (typeof sealed !== 'string') return undefined;
    const [version, ivText, bodyText, ...rest] = sealed.split('.');
    if (version !== SEALED_VERSION || !ivText || !bodyText || rest.length) return undefined;
    const iv = Buffer.from(ivText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (iv.length !== IV_BYTES || body.length <= TAG_BYTES) return undefined;
    for (const key of this.keys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAAD(Buffer.from(context));
        decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
        const plain = Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]);
        return JSON.parse(plain.toString('utf8')) as unknown;
      } catch {
        // not this key (or not genuine): try the next
      }
    }
    return undefined;
  }
}
