import { ApiException } from '@kubernetes/client-node';
import { ChatOpsError, badInput, conflict, denied, notFound, unavailable } from '../errors/index.js';

interface KubeStatus {
  message?: string;
  reason?: string;
  code?: number;
}

function statusOf(err: ApiException<unknown>): KubeStatus {
  const body = err.body;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as KubeStatus;
    } catch {
      return { message: body };
    }
  }
  return body ?? {};
}

/** HTTP status of a Kubernetes API failure, if it was one. */
export function kubeStatusCode(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

/**
 * Turns a client-node failure into an error the user can read. `what` names the
 * object in the user's words, e.g. "deployment myapp in namespace beta".
 */
export function fromKubeError(err: unknown, what: string, hint = ''): ChatOpsError {
  if (err instanceof ChatOpsError) return err;
  if (err instanceof ApiException) {
    const status = statusOf(err);
    const detail = status.message ? `: ${status.message}` : '';
    switch (err.code) {
      case 404:
        return notFound(`${what} not found${hint ? ` — ${hint}` : ''}.`, err);
      case 401:
      case 403:
        return denied(
          `The bot's Kubernetes identity may not do this (${what}${detail}). Ops can run \`npm run check\` to see its permissions.`,
        );
      case 409:
        return conflict(`${what} was changed by someone else meanwhile${detail}. Try again.`, err);
      case 400:
      case 415:
      case 422:
        return badInput(`Kubernetes refused the change to ${what}${detail}.`, err);
      default:
        return unavailable(`The Kubernetes API answered ${err.code} for ${what}${detail}; will retry.`, err);
    }
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? (err as { cause?: NodeJS.ErrnoException } | undefined)?.cause?.code;
  return unavailable(`Cannot reach the Kubernetes API for ${what}${code ? ` (${code})` : ''}; will retry.`, err);
}

/** Awaits a client-node call, turning its failure into the user-readable error `fromKubeError` makes. */
export async function kubeCall<T>(call: Promise<T>, what: string, hint = ''): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw fromKubeError(err, what, hint);
  }
}
