/**
 * Leader election on a coordination.k8s.io/v1 Lease, so one replica watches
 * (client-node has no helper). The leader renews every `retryPeriodMs`; a
 * follower reads the Lease and takes it over once `renewTime + leaseDuration`
 * has passed — waking up exactly then, so a dead leader is replaced within the
 * lease duration. Writes carry the resourceVersion read, so two candidates
 * cannot both win (409 for the loser). A leader that cannot renew for
 * `renewDeadlineMs` stops leading before its lease can expire. A graceful stop
 * releases the Lease for an immediate hand-over.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import { kubeStatusCode } from '../kube/errors.js';
import type { ClusterClient } from '../kube/clusters.js';
import type { Logger } from '../log.js';
import { timeMs } from '../kube/time.js';

/** hostname + pid + random: unique per process, readable in `kubectl get lease`. */
export function defaultIdentity(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export interface LeaseView {
  holder?: string;
  /** ms since the epoch; undefined if never renewed. */
  renewTime?: number;
  durationMs: number;
}

export type LeaseAction = { action: 'create' } | { action: 'renew' } | { action: 'takeover' } | { action: 'follow'; expiresAt: number };

/** What a candidate does with the Lease as read. Pure. */
export function leaseAction(lease: LeaseView | undefined, identity: string, now: number): LeaseAction {
  if (!lease) return { action: 'create' };
  if (lease.holder === identity) return { action: 'renew' };
  if (!lease.holder || lease.renewTime === undefined) return { action: 'takeover' };
  const expiresAt = lease.renewTime + lease.durationMs;
  return now >= expiresAt ? { action: 'takeover' } : { action: 'follow', expiresAt };
}

export interface LeaderTimings {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/**
 * Renew deadline and retry period from the lease duration, in client-go's
 * proportions (15 s / 10 s / 2 s): the leader gives up before its lease can
 * expire, and retries several times within its deadline. The duration goes up
 * to whole seconds (never below 1 s): a Lease counts in seconds on the wire.
 */
export function leaderTimings(leaseDurationMs = 15_000): LeaderTimings {
  const lease = Math.max(1_000, Math.ceil(leaseDurationMs / 1_000) * 1_000);
  return { leaseDurationMs: lease, renewDeadlineMs: Math.round((lease * 2) / 3), retryPeriodMs: Math.round((lease * 2) / 15) };
}

function viewOf(lease: V1Lease): LeaseView {
  const renew = timeMs(lease.spec?.renewTime);
  return {
    ...(lease.spec?.holderIdentity ? { holder: lease.spec.holderIdentity } : {}),
    ...(Number.isFinite(renew) ? { renewTime: renew } : {}),
    durationMs: (lease.spec?.leaseDurationSeconds ?? 15) * 1_000,
  };
}

export interface LeaderElectorOptions {
  cluster: Pick<ClusterClient, 'coordination' | 'name'>;
  namespace: string;
  name: string;
  identity: string;
  /** How long a lease is valid without renewal (rounded up to whole seconds: the wire's unit). Default 15 s. */
  leaseDurationMs?: number;
  /** Renew (leader) and retry (candidate) interval. Default 2/15 of the lease duration (2 s). */
  retryPeriodMs?: number;
  /** A leader that could not renew for this long steps down. Default 2/3 of the lease duration (10 s). */
  renewDeadlineMs?: number;
  now?: () => number;
  log: Logger;
  onStartedLeading(): void | Promise<void>;
  onStoppedLeading(): void | Promise<void>;
}

export class LeaderElector {
  private readonly durationMs: number;
  private readonly retryMs: number;
  private readonly deadlineMs: number;
  private readonly now: () => number;
  private leading = false;
  private lastRenew = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> = Promise.resolve();
  private lastError: { text: string; at: number } | undefined;

  constructor(private readonly opts: LeaderElectorOptions) {
    const timings = leaderTimings(opts.leaseDurationMs);
    this.durationMs = timings.leaseDurationMs;
    this.retryMs = opts.retryPeriodMs ?? timings.retryPeriodMs;
    this.deadlineMs = opts.renewDeadlineMs ?? timings.renewDeadlineMs;
    this.now = opts.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops campaigning; a leader stops leading and (unless `release: false`, i.e. a simulated crash) frees the Lease. */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.ticking;
    if (!this.leading) return;
    await this.stepDown('stopping');
    if (opts.release === false) return;
    try {
      const lease = await this.read();
      if (lease?.spec?.holderIdentity === this.opts.identity) {
        lease.spec.holderIdentity = undefined;
        lease.spec.leaseDurationSeconds = 1;
        lease.spec.renewTime = new V1MicroTime(this.now());
        await this.opts.cluster.coordination.replaceNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace, body: lease });
      }
    } catch (err) {
      this.opts.log.warn({ err }, 'could not release the alerts lease; another replica takes over when it expires');
    }
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick();
    }, ms);
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.opts.cluster.coordination.readNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace });
    } catch (err) {
      if (kubeStatusCode(err) === 404) return undefined;
      throw err;
    }
  }

  private spec(transitions: number, acquired: boolean, previous?: V1Lease['spec']): NonNullable<V1Lease['spec']> {
    const now = new V1MicroTime(this.now());
    return {
      ...previous,
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: this.durationMs / 1_000,
      renewTime: now,
      acquireTime: acquired ? now : (previous?.acquireTime ?? now),
      leaseTransitions: transitions,
    };
  }

  private async tick(): Promise<void> {
    let next = this.retryMs;
    try {
      const lease = await this.read();
      const decision = leaseAction(lease && viewOf(lease), this.opts.identity, this.now());
      const { coordination } = this.opts.cluster;
      const { name, namespace } = this.opts;
      if (decision.action === 'create') {
        await coordination.createNamespacedLease({
          namespace,
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: this.spec(0, true) },
        });
        this.renewed();
      } else if (decision.action === 'follow') {
        if (this.leading) await this.stepDown(`the lease is held by ${lease?.spec?.holderIdentity}`);
        next = Math.min(this.retryMs, Math.max(10, decision.expiresAt - this.now() + 10));
      } else if (lease) {
        const takeover = decision.action === 'takeover';
        const previous = lease.spec?.holderIdentity;
        lease.spec = this.spec((lease.spec?.leaseTransitions ?? 0) + (takeover ? 1 : 0), takeover, lease.spec);
        await coordination.replaceNamespacedLease({ name, namespace, body: lease });
        if (takeover)
          this.opts.log.info({ lease: `${namespace}/${name}`, cluster: this.opts.cluster.name, previous }, 'took over the alerts lease');
        this.renewed();
      }
      this.lastError = undefined;
    } catch (err) {
      const code = kubeStatusCode(err);
      if (code === 409) {
        // Someone else wrote first (renewed, or won the race for an expired lease): read again soon.
        next = Math.min(this.retryMs, 100);
      } else if (String(err) !== this.lastError?.text || this.now() - this.lastError.at > 60_000) {
        // Once per distinct error a minute: a missing permission would otherwise log every retry period.
        this.lastError = { text: String(err), at: this.now() };
        this.opts.log.warn(
          { err, code, cluster: this.opts.cluster.name, lease: `${this.opts.namespace}/${this.opts.name}` },
          'alerts leader election: cannot read or write the lease',
        );
      }
      if (this.leading && this.now() - this.lastRenew > this.deadlineMs) await this.stepDown('could not renew the lease in time');
    }
    this.schedule(next);
  }

  private renewed(): void {
    this.lastRenew = this.now();
    if (this.leading) return;
    this.leading = true;
    this.opts.log.info({ identity: this.opts.identity, cluster: this.opts.cluster.name }, 'leading: this replica watches for alerts');
    // Not awaited: the initial sync must not hold up the next renewal.
    void Promise.resolve()
      .then(() => this.opts.onStartedLeading())
      .catch((err: unknown) => this.opts.log.error({ err }, 'could not start watching for alerts'));
  }

  private async stepDown(why: string): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    this.opts.log.warn(
      { identity: this.opts.identity, cluster: this.opts.cluster.name, why },
      'no longer leading: stopped watching for alerts',
    );
    try {
      await this.opts.onStoppedLeading();
    } catch (err) {
      this.opts.log.error({ err }, 'error while stopping the alert watch');
    }
  }
}
