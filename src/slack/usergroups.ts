import type { WebClient } from '@slack/web-api';
import type { MembershipResolver } from '../policy/index.js';
import { unavailable } from '../errors/index.js';

/**
 * Resolves user-group membership with `usergroups.users.list` (Tier 2, ~20/min),
 * cached briefly so a burst of commands costs one call per group.
 */
export class SlackMembership implements MembershipResolver {
  private readonly cache = new Map<string, { users: Set<string>; until: number }>();

  constructor(private readonly client: WebClient, private readonly ttlMs = 60_000, private readonly now = () => Date.now()) {}

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
      this.cache.set(group, { users, until: this.now() + this.ttlMs });
      return users;
    } catch (err) {
      if (cached) return cached.users; // stale beats failing closed on a Slack hiccup
      throw unavailable(`Could not check membership of user group ${group} with Slack; try again shortly.`, err);
    }
  }
}
