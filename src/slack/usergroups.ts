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
    for (const group of ids.filter((id) => id.startsWith('S'))) {
      if ((await this.groupUsers(group)).has(userId)) return true;
    }
    return false;
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
