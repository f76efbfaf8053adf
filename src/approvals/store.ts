import type { Redis } from 'ioredis';
import type { CommandRequest } from '../command/request.js';
import { TamperedRecordError, type Signer } from '../security/signing.js';

/** `executed`: approved and claimed by the one run it allows (an approval runs at most once, ever). */
export type ApprovalState = 'pending' | 'approved' | 'rejected' | 'expired' | 'cancelled' | 'executed';

/** A production change waiting for approval. Lives in Redis; survives every restart. */
export interface ApprovalRequest {
  id: string;
  state: ApprovalState;
  verb: string;
  /** Named arguments before validation (re-validated by the worker). */
  args: Record<string, unknown>;
  /** The real arguments, sealed, when `args` holds masked secrets (src/command/secret-args.ts). */
  sealedArgs?: string;
  description: string;
  env: string;
  app?: string;
  request: CommandRequest;
  /** What will change, as shown to approvers. */
  changes: string[];
  /** The server-side dry run's diff as approvers saw it (secret values masked), at most DIFF_MAX_LINES lines. */
  diff?: string[];
  /** Digest of that whole diff (src/kube/diff.ts): the approved run recomputes it and asks again when it differs. */
  diffDigest?: string;
  /** 1 for the first request of a command; 2, 3… when asked again because the live objects changed meanwhile. */
  round?: number;
  minApprovals: number;
  approvals: string[];
  createdAt: number;
  expiresAt: number;
  /** The approval message (its thread carries the run's progress). */
  messageTs?: string;
  decidedBy?: string;
  decidedAt?: number;
  /** The approved run must start before this (set when approved). */
  runBy?: number;
  /** The approved run was put on the queue (a lost one may be queued again; a queued one never). */
  queuedAt?: number;
  /** The run that claimed it: job id @ job creation time, so a re-added job with the same id is another run. */
  executedBy?: string;
  executedAt?: number;
}

export type ApproveResult =
  | { result: 'approved' | 'recorded'; request: ApprovalRequest }
  | { result: 'already_approved_by_you' | 'self' | 'not_pending' | 'expired' | 'missing'; request?: ApprovalRequest };

// All transitions are single Lua scripts: ten simultaneous clicks see one winner.
// KEYS[1] = request hash: field "data" (what was asked, never changed) and field
// "state" (state, expiresAt, minApprovals, requesterId, decidedBy/At) — the scripts
// touch only "state". KEYS[2] = set of approvers, each "<user id>|<signature over the request id
// and the user>": get() refuses a record whose set holds a member the bot did not sign.
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
-- Members are "<user>|<signature>": one per user, whichever key signed it.
for _, m in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if string.sub(m, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then return {'already_approved_by_you'} end
end
redis.call('SADD', KEYS[2], ARGV[5])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
if redis.call('SCARD', KEYS[2]) >= tonumber(r.minApprovals) then
  r.state = 'approved'; r.decidedBy = ARGV[1]; r.decidedAt = now; r.runBy = now + tonumber(ARGV[4])
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

// Creates the record with its TTL and index entry in one step: no record without a TTL after a crash.
const CREATE = `
if redis.call('HSETNX', KEYS[1], 'data', ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'sig', ARGV[3])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[6])
return 1
`;

// approved → approved with queuedAt: the Approve handler queued its run.
const MARK_QUEUED = `
local raw = redis.call('HGET', KEYS[1], 'state')
if not raw then return 'missing' end
local r = cjson.decode(raw)
if r.state ~= 'approved' then return r.state end
r.queuedAt = tonumber(ARGV[1])
redis.call('HSET', KEYS[1], 'state', cjson.encode(r)); return 'ok'
`;

// approved → executed, once: ARGV[1] is the run claiming it (the same run may resume after a crash).
const CLAIM = `
local raw = redis.call('HGET', KEYS[1], 'state')
if not raw then return {'missing'} end
local r = cjson.decode(raw)
if r.state == 'executed' then
  if r.executedBy == ARGV[1] then return {'resumed'} end
  return {'already_executed'}
end
if r.state ~= 'approved' then return {'not_approved'} end
local now = tonumber(ARGV[2])
if r.runBy and now > tonumber(r.runBy) then return {'past_deadline'} end
r.state = 'executed'; r.executedBy = ARGV[1]; r.executedAt = now
redis.call('HSET', KEYS[1], 'state', cjson.encode(r)); return {'claimed'}
`;

// approved (queued, not yet run) → cancelled: its run was cancelled, so the approval may never run.
const WITHDRAW_APPROVED = `
local raw = redis.call('HGET', KEYS[1], 'state')
if not raw then return 'missing' end
local r = cjson.decode(raw)
if r.state ~= 'approved' then return r.state end
r.state = 'cancelled'; r.decidedBy = ARGV[1]; r.decidedAt = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'state', cjson.encode(r)); return 'cancelled'
`;

export type ClaimResult = 'claimed' | 'resumed' | 'already_executed' | 'not_approved' | 'past_deadline' | 'missing';

export type CloseResult = { result: 'closed' | 'not_pending' | 'expired' | 'not_due' | 'missing'; request?: ApprovalRequest };

/** The fields the Lua transitions change (kept apart from the signed data), and who asked: self-approval is refused there. */
type MutableState = Pick<
  ApprovalRequest,
  'state' | 'expiresAt' | 'minApprovals' | 'messageTs' | 'decidedBy' | 'decidedAt' | 'runBy' | 'queuedAt' | 'executedBy' | 'executedAt'
> & { requesterId: string };

export class ApprovalStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly signer: Signer,
    private readonly now = () => Date.now(),
  ) {}

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
  async create(
    input: Omit<ApprovalRequest, 'id' | 'state' | 'approvals' | 'createdAt'> & { createdAt?: number },
  ): Promise<ApprovalRequest> {
    const id = `apr-${input.request.requestId.slice(0, 20)}${(input.round ?? 1) > 1 ? `r${input.round}` : ''}`;
    const request: ApprovalRequest = { ...input, id, state: 'pending', approvals: [], createdAt: input.createdAt ?? this.now() };
    // Keep the record well past expiry, for late clicks and for the audit trail.
    const ttlSeconds = Math.ceil((request.expiresAt - this.now()) / 1_000) + 7 * 24 * 3600;
    const { state, expiresAt, minApprovals, approvals: _approvals, messageTs: _ts, decidedBy: _by, decidedAt: _at, ...data } = request;
    const mutable: MutableState = { state, expiresAt, minApprovals, requesterId: request.request.userId };
    // What will run is signed (with its id); get() refuses a record whose data was edited in Redis.
    const sig = this.signer.sign('approval', { id, data });
    const created = await this.redis.eval(
      CREATE,
      2,
      this.key(id),
      this.indexKey,
      JSON.stringify(data),
      JSON.stringify(mutable),
      sig,
      String(ttlSeconds),
      String(request.expiresAt),
      id,
    );
    if (created === 1) return request;
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
    const approvers = (approvals ?? []).map((member) => {
      const bar = member.indexOf('|');
      const user = member.slice(0, Math.max(0, bar));
      if (bar <= 0 || !this.signer.verify('approver', { id, user }, member.slice(bar + 1))) throw new TamperedRecordError('approval', id);
      return user;
    });
    const { requesterId: _requester, ...mutable } = mutableState;
    return { ...parsed, ...mutable, approvals: approvers };
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

  /** `runWindowMs`: how long after the decisive approval its run may still start. */
  async approve(id: string, userId: string, allowSelfApproval: boolean, runWindowMs = 30 * 60_000): Promise<ApproveResult> {
    const [result] = (await this.redis.eval(
      APPROVE,
      2,
      this.key(id),
      this.approversKey(id),
      userId,
      String(this.now()),
      allowSelfApproval ? '1' : '0',
      String(runWindowMs),
      `${userId}|${this.signer.sign('approver', { id, user: userId })}`,
    )) as [string];
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

  /** Records that the approved run is on the queue; answers 'ok' or the state it was in instead. */
  async markQueued(id: string): Promise<string> {
    return (await this.redis.eval(MARK_QUEUED, 1, this.key(id), String(this.now()))) as string;
  }

  /** The one transition to `executed`: only one run ever gets 'claimed' (or 'resumed', for that same run). */
  async claimRun(id: string, runId: string): Promise<ClaimResult> {
    const [result] = (await this.redis.eval(CLAIM, 1, this.key(id), runId, String(this.now()))) as [ClaimResult];
    return result;
  }

  /** An approved run cancelled before it started: the approval is spent. Answers 'cancelled' or the state it was in. */
  async withdrawApproved(id: string, byUserId: string): Promise<string> {
    return (await this.redis.eval(WITHDRAW_APPROVED, 1, this.key(id), byUserId, String(this.now()))) as string;
  }

  /** Pending requests (for `jobs`), oldest first. */
  async listPending(): Promise<ApprovalRequest[]> {
    const ids = await this.redis.zrange(this.indexKey, '0', '199');
    // A record that fails verification is left out here; the buttons and the worker refuse and report it.
    const requests = await Promise.all(
      ids.map((id) =>
        this.get(id).catch((err: unknown) => (err instanceof TamperedRecordError ? undefined : Promise.reject(err as Error))),
      ),
    );
    return requests.filter((r): r is ApprovalRequest => r?.state === 'pending');
  }
}
