import { z } from 'zod';
import { DNS1123_LABEL } from '../config/schema.js';

/** Shared argument schemas: every name a user types is a DNS-1123 label before it goes anywhere. */
export const nameArg = (what: string) =>
  z
    .string()
    .max(63, `${what} is at most 63 characters`)
    .regex(DNS1123_LABEL, `${what} must be a lowercase DNS-1123 name (letters, digits, "-")`);

export const appArg = nameArg('app');
export const envArg = nameArg('environment');

/** Image tags: what a registry accepts (no slashes, no shell characters). */
export const versionArg = z
  .string()
  .max(128, 'version is at most 128 characters')
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'version must be an image tag: letters, digits, ".", "_" and "-"');
