import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CommandRequest } from '../command/request.js';
import { TamperedRecordError, type Signer } from '../security/signing.js';

export type ApprovalState = 'pending' | 'approved' | 'rejected' | 'expired' | 'cancelled';

/** A production change waiting for approval. Lives in Redis; survives every restart. */
export interface ApprovalRequest {
  id: string;
  state: ApprovalState;
  verb: string;
  /** Named arguments before validation (re-validated by the worker). */
  args: Record<string, unknown>;
  description: string;
  env: string;
  app?: string;
  request: CommandRequest;
  /** What will change, as shown to approvers. */
  changes: string[];
  minApprovals: number;
  approvals: string[];
  createdAt: number;
  expiresAt: number;
  /** The approval message (its thread carries the run's progress). */
  messageTs?: string;
  decidedBy?: string;
  decidedAt?: number;
}

export type ApproveResult =
  | { result: 'approved' | 'recorded'; request: ApprovalRequest }
  | { result: 'already_approved_by_you' | 'self' | 'not_pending' | 'expired' | 'missing'; request?: ApprovalRequest };

// All transitions are single Lua scripts: ten simultaneous clicks see one winner.
// KEYS[1] = request hash: field "data" (what was asked, never changed) and field
// "state" (state, expiresAt, minApprovals, requesterId, decidedBy/At) — the scripts
// touch only "state". KEYS[2] = set of approvers.
const APPROVE = `
local raw = redis.call('HGET', KEYS[1], 'state')
if not raw then return {'missing'} end
local r = cjson.decode(raw)
if r.state ~= 'pending' then return {'not_pending'} end
local now = tonumber(ARGV[2])
if now >= tonumber(r.expiresAt) then
  r.state = 'expired'; r.decidedAt = now
  redis.call('HSET', KEYS[1], 'state', cjson.encode(r)); return {'expired'}
end
if ARGV[1] == r.requesterId and ARGV[3] ~= '1' then return {'self'} end
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return {'already_approved_by_you'} end
if redis.call('SCARD', KEYS[2]) >= tonumber(r.minApprovals) then
  r.state = 'approved'; r.decidedBy = ARGV[1]; r.decidedAt = now
  redis.call('HSET', KEYS[1], 'state', cjson.encode(r)); return {'approved'}
end
return {'recorded'}
`;

// Moves pending → ARGV[1] (rejected | cancelled | expired); expiry only once the time has come.
const CLOSE = `
local raw = redis.call('HGET', KEYS[1], 'state')
if not raw then return {'missing'} end
local r = cjson.decode(raw)
if r.state ~= 'pending' then return {'not_pending'} end
local now = tonumber(ARGV[3])
if ARGV[1] == 'expired' and now < tonumber(r.expiresAt) then return {'not_due'} end
if ARGV[1] ~= 'expired' and now >= tonumber(r.expiresAt) then
  r.state = 'expired'; r.decidedAt = now
  redis.call('HSET', KEYS[1], 'state', cjson.encode(r)); return {'expired'}
end
r.state = ARGV[1]; r.decidedBy = ARGV[2]; r.decidedAt = now
redis.call('HSET', KEYS[1], 'state', cjson.encode(r)); return {'closed'}
`;

export type CloseResult = { result: 'closed' | 'not_pending' | 'expired' | 'not_due' | 'missing'; request?: ApprovalRequest };

interface MutableState {
  state: ApprovalState;
  expiresAt: number;
  minApprovals: number;
  requesterId: string;
  messageTs?: string;
  decidedBy?: string;
  decidedAt?: number;
}

export class ApprovalStore {
  constructor(private readonly redis: Redis, private readonly prefix: string, private readonly signer: Signer, private readonly now = () => Date.now()) {}

  private key(id: string): string {
    return `${this.prefix}:chatops:approval:${id}`;
  }
  private approversKey(id: string): string {
    return `${this.prefix}:chatops:approval:${id}:approvers`;
  }
  private get indexKey(): string {
    return `${this.prefix}:chatops:approvals:pending`;
  }

  static isValidId(id: string): boolean {
    return /^apr-[A-Za-z0-9_-]{8,32}$/.test(id);
  }

  /** Creates the request once per Slack request: a retried preview job finds the same one. */
  async create(input: Omit<ApprovalRequest, 'id' | 'state' | 'approvals' | 'createdAt'> & { createdAt?: number }): Promise<ApprovalRequest> {
    const id = `apr-${input.request.requestId.slice(0, 20)}`;
    const request: ApprovalRequest = { ...input, id, state: 'pending', approvals: [], createdAt: input.createdAt ?? this.now() };
    // Keep the record well past expiry, for late clicks and for the audit trail.
    const ttlSeconds = Math.ceil((request.expiresAt - this.now()) / 1_000) + 7 * 24 * 3600;
    const { state, expiresAt, minApprovals, approvals: _approvals, messageTs: _ts, decidedBy: _by, decidedAt: _at, ...data } = request;
    const mutable: MutableState = { state, expiresAt, minApprovals, requesterId: request.request.userId };
    const created = await this.redis.hsetnx(this.key(id), 'data', JSON.stringify(data));
    if (created) {
      // What will run is signed (with its id); get() refuses a record whose data was edited in Redis.
      await this.redis.hset(this.key(id), 'state', JSON.stringify(mutable), 'sig', this.signer.sign('approval', { id, data }));
      await this.redis.expire(this.key(id), ttlSeconds);
      await this.redis.zadd(this.indexKey, String(request.expiresAt), id);
      return request;
    }
    return (await this.get(id)) ?? request;
  }

  /** The request, or undefined if unknown; throws TamperedRecordError if its data fails verification. */
  async get(id: string): Promise<ApprovalRequest | undefined> {
    const [[, data], [, state], [, approvals], [, sig]] = (await this.redis
      .multi()
      .hget(this.key(id), 'data')
      .hget(this.key(id), 'state')
      .smembers(this.approversKey(id))
      .hget(this.key(id), 'sig')
      .exec()) as [[unknown, string | null], [unknown, string | null], [unknown, string[]], [unknown, string | null]];
    if (!data || !state) return undefined;
    let parsed: Omit<ApprovalRequest, keyof MutableState | 'approvals'>;
    let mutableState: MutableState;
    try {
      parsed = JSON.parse(data) as typeof parsed;
      mutableState = JSON.parse(state) as MutableState;
    } catch {
      throw new TamperedRecordError('approval', id);
    }
    if (!this.signer.verify('approval', { id, data: parsed }, sig)) throw new TamperedRecordError('approval', id);
    const { requesterId: _requester, ...mutable } = mutableState;
    return { ...parsed, ...mutable, approvals: approvals ?? [] } as ApprovalRequest;
  }

  async setMessageTs(id: string, ts: string): Promise<void> {
    // Only the message ts changes here; state transitions go through the scripts.
    await this.redis.eval(
      `local raw = redis.call('HGET', KEYS[1], 'state'); if not raw then return 0 end
       local r = cjson.decode(raw); r.messageTs = ARGV[1]; redis.call('HSET', KEYS[1], 'state', cjson.encode(r)); return 1`,
      1,
      this.key(id),
      ts,
    );
  }

  async approve(id: string, userId: string, allowSelfApproval: boolean): Promise<ApproveResult> {
    const [result] = (await this.redis.eval(APPROVE, 2, this.key(id), this.approversKey(id), userId, String(this.now()), allowSelfApproval ? '1' : '0')) as [string];
    const request = await this.get(id);
    if (result === 'approved' || result === 'expired') await this.redis.zrem(this.indexKey, id);
    return { result, ...(request ? { request } : {}) } as ApproveResult;
  }

  async close(id: string, to: 'rejected' | 'cancelled' | 'expired', byUserId: string): Promise<CloseResult> {
    const [result] = (await this.redis.eval(CLOSE, 1, this.key(id), to, byUserId, String(this.now()))) as [string];
    if (result !== 'not_due') await this.redis.zrem(this.indexKey, id);
    const request = await this.get(id);
    return { result, ...(request ? { request } : {}) } as CloseResult;
  }

  /** Pending requests (for `jobs`), oldest first. */
  async listPending(): Promise<ApprovalRequest[]> {
    const ids = await this.redis.zrange(this.indexKey, '0', '199');
    // A record that fails verification is left out here; the buttons and the worker refuse and report it.
    const requests = await Promise.all(ids.map((id) => this.get(id).catch((err) => (err instanceof TamperedRecordError ? undefined : Promise.reject(err)))));
    return requests.filter((r): r is ApprovalRequest => r?.state === 'pending');
  }
}
