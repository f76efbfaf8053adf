import type { WebClient } from '@slack/web-api';
import type { MembershipResolver } from '../policy/index.js';
import { denied, unavailable } from '../errors/index.js';

/**
 * Resolves user-group membership with `usergroups.users.list` (Tier 2, ~20/min),
 * cached briefly so a burst of commands costs one call per group. When Slack does
 * not answer, a set fetched within `maxStaleMs` (5 min) still answers; an older one
 * does not — someone removed from an approver group must not keep approving.
 */
export class SlackMembership implements MembershipResolver {
  private readonly cache = new Map<string, { users: Set<string>; until: number; fetchedAt: number }>();

  constructor(
    private readonly client: WebClient,
    private readonly ttlMs = 60_000,
    private readonly now = () => Date.now(),
    private readonly maxStaleMs = 5 * 60_000,
  ) {}

  async isMember(userId: string, ids: readonly string[]): Promise<boolean> {
    if (ids.includes(userId)) return true;
    // Every group at once: the answer waits for the slowest lookup, not for their sum.
    const lookups = ids.filter((id) => id.startsWith('S')).map((group) => this.groupUsers(group).then((users) => users.has(userId)));
    if (lookups.length === 0) return false;
    // A member of any group is in, even while another group's lookup fails; without a yes, a failed lookup decides.
    return new Promise<boolean>((resolve, reject) => {
      let pending = lookups.length;
      let failure: unknown;
      for (const lookup of lookups) {
        lookup.then(
          (member) => {
            if (member) resolve(true);
            if (--pending > 0) return;
            if (failure === undefined) resolve(false);
            else reject(failure as Error);
          },
          (err: unknown) => {
            failure ??= err;
            if (--pending === 0) reject(failure as Error);
          },
        );
      }
    });
  }

  private async groupUsers(group: string): Promise<Set<string>> {
    const cached = this.cache.get(group);
    if (cached && cached.until > this.now()) return cached.users;
    try {
      const res = await this.client.usergroups.users.list({ usergroup: group });
      const users = new Set(res.users ?? []);
      this.cache.set(group, { users, until: this.now() + this.ttlMs, fetchedAt: this.now() });
      return users;
    } catch (err) {
      // A Slack hiccup: a recent set still answers; past the bound, the answer is no.
      if (cached && this.now() - cached.fetchedAt <= this.maxStaleMs) return cached.users;
      if (cached) {
        throw denied(
          `Slack did not answer about user group ${group} and what I last knew is over ${Math.round(this.maxStaleMs / 60_000)} minutes old, so I cannot confirm membership; try again shortly.`,
        );
      }
      throw unavailable(`Could not check membership of user group ${group} with Slack; try again shortly.`, err);
    }
  }
}
