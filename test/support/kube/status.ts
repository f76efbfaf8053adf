/** metav1.Status failures, shaped as the real apiserver sends them. */
import { qualifiedName, type ResourceDef } from './resources.js';

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

function gk(r: ResourceDef): Record<string, string> {
  return r.group ? { group: r.group, kind: r.plural } : { kind: r.plural };
}

export function notFound(r: ResourceDef, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedName(r)} "${name}" not found`, { name, ...gk(r) });
}

export function alreadyExists(r: ResourceDef, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedName(r)} "${name}" already exists`, { name, ...gk(r) });
}

export function conflict(r: ResourceDef, name: string): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedName(r)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, ...gk(r) },
  );
}

/** 422 Invalid; `kindLabel` like 'Deployment.apps' */
export function invalid(kindLabel: string, name: string, group: string, kind: string, causes: StatusCause[]): ApiError {
  const msg = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const joined = msg.length === 1 ? msg[0] : `[${msg.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${kindLabel} "${name}" is invalid: ${joined}`, {
    name,
    ...(group ? { group } : {}),
    kind,
    causes,
  });
}

export function invalidObject(r: ResourceDef, name: string, causes: StatusCause[]): ApiError {
  return invalid(r.group ? `${r.kind}.${r.group}` : r.kind, name, r.group, r.kind, causes);
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function forbidden(
  r: { plural: string; group: string },
  name: string | undefined,
  user: string,
  verb: string,
  resource: string,
  namespace: string | undefined,
): ApiError {
  const subject = name ? `${r.group ? `${r.plural}.${r.group}` : r.plural} "${name}"` : r.group ? `${r.plural}.${r.group}` : r.plural;
  const scope = namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope';
  return new ApiError(
    403,
    'Forbidden',
    `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${r.group}"${scope}`,
    { ...(name ? { name } : {}), ...(r.group ? { group: r.group } : {}), kind: r.plural },
  );
}

export function unsupportedMediaType(accepted: string[]): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

export function methodNotAllowed(): ApiError {
  return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

export function expired(rv: number | string, oldest: number): ApiError {
  return new ApiError(410, 'Expired', `too old resource version: ${rv} (${oldest})`);
}

export function successStatus(r: ResourceDef, name: string, uid: string | undefined): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name, ...gk(r), ...(uid ? { uid } : {}) },
  };
}
