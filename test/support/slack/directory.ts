/** Identity and directory methods: api.test, auth.test, users.info, usergroups.users.list. */
import { fail, ok, str, type Handler } from './http.js';
import type { Workspace } from './state.js';

export function directoryHandlers(ws: Workspace): Record<string, Handler> {
  const { teamId, botUserId, botId } = ws.id;
  return {
    'api.test': (args) => ok({ args }),
    'auth.test': () =>
      ok({
        url: 'https://emulated.slack.com/',
        team: 'Emulated',
        user: 'k8s-chatops',
        team_id: teamId,
        user_id: botUserId,
        bot_id: botId,
        is_enterprise_install: false,
      }),
    'users.info': (args) => {
      const id = str(args['user']);
      const u = id ? ws.users.get(id) : undefined;
      if (!u) return fail('user_not_found');
      return ok({
        user: {
          id: u.id,
          team_id: teamId,
          name: u.name,
          deleted: u.deleted ?? false,
          real_name: u.real_name ?? u.name,
          tz: u.tz ?? 'Etc/UTC',
          is_bot: u.is_bot ?? false,
          is_admin: false,
          profile: { real_name: u.real_name ?? u.name, display_name: u.name, team: teamId },
        },
      });
    },
    'usergroups.users.list': (args) => {
      const id = str(args['usergroup']);
      const members = id ? ws.userGroups.get(id) : undefined;
      if (!members) return fail('no_such_subteam');
      return ok({ users: [...members] });
    },
  };
}

/** Token checks Slack applies before any method runs. */
export function authError(method: string, token: string | undefined, opts: { appToken?: string; botToken?: string }) {
  if (method === 'api.test') return undefined;
  if (!token) return fail('not_authed');
  if (method === 'apps.connections.open') {
    if (opts.appToken !== undefined) return token === opts.appToken ? undefined : fail('invalid_auth');
    return token.startsWith('xapp-') ? undefined : fail('not_allowed_token_type');
  }
  if (token.startsWith('xapp-')) return fail('not_allowed_token_type');
  if (opts.botToken !== undefined && token !== opts.botToken) return fail('invalid_auth');
  return undefined;
}
