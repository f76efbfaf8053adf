/** The program's usage, printed by `npm start -- --help` and `k8s-chatops --help`. */
export const USAGE = `k8s-chatops — run Kubernetes from Slack, safely.

usage: npm start [-- --role app|worker|alerts]
       k8s-chatops check [--config FILE] [--bot-namespace NAMESPACE]   (npm run check)
       npm run playground                                              (try it in a browser)

  start   run the bot: every role in one process, or one role with --role (or
          CHATOPS_ROLE). Reads the environment, or a local .env (see .env.example),
          and the config file ($CHATOPS_CONFIG, default ./chatops.yaml).
          Needs Redis ($REDIS_URL, default redis://127.0.0.1:6379).

  check   say whether each dependency is ready, one sentence each: the Slack bot
          token, Redis (and its maxmemory-policy), each cluster (reachable?) and
          the bot's permissions there (SelfSubjectAccessReview, a table per
          environment). Exit 1 when something needed is missing (2 on a
          configuration error). Reads .env like start.

  --config FILE              the config file (default: $CHATOPS_CONFIG or ./chatops.yaml)
  --bot-namespace NAMESPACE  the bot's own namespace, for the leader-election Lease
                             (default: $POD_NAMESPACE or the pod's service account namespace)
`;

export const wantsHelp = (argv: readonly string[]) => argv.some((a) => a === '--help' || a === '-h' || a === 'help');
