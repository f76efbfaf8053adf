/** The playground's pretend workspace: its people, its channels and the bot's config binding them. */

export interface PlaygroundUser {
  id: string;
  name: string;
  role: string;
}

export const USERS: PlaygroundUser[] = [
  { id: 'U0DEV', name: 'dana', role: 'developer' },
  { id: 'U0OPSLEAD', name: 'alex', role: 'approver' },
  { id: 'U0ONCALL', name: 'sam', role: 'on-call' },
];

export const CHANNELS = [
  { id: 'C0DEVTEAM', name: 'dev-team', topic: 'beta is ours; prod deploys need an approver' },
  { id: 'C0OPS', name: 'ops', topic: 'everything, everywhere' },
  { id: 'C0ONCALL', name: 'oncall', topic: 'alerts from beta and prod' },
];

export const BOT_NAME = 'k8s-chatops';

/** Bound like the README's example: the dev team owns beta and asks for prod; alerts go to #oncall. */
export const playgroundConfig = (kubeconfig: string): string => `
clusters:
  default: { context: playground, kubeconfig: ${JSON.stringify(kubeconfig)} }
environments:
  beta: { cluster: default, namespace: beta }
  prod:
    cluster: default
    namespace: prod
    promoteFrom: beta
    approval: { approvers: [U0OPSLEAD], minApprovals: 1, allowSelfApproval: false, timeout: 30m }
apps:
  myapp:
    image: registry.example.com/team/myapp
    defaultTag: "1.4.1"
    port: 8080
    replicas: 2
    progressDeadlineSeconds: 60
    resources: { requests: { cpu: 100m, memory: 128Mi }, limits: { memory: 256Mi } }
    env: { LOG_LEVEL: info }
    environments: { prod: { replicas: 3 } }
channels:
  C0DEVTEAM: { environments: [beta, prod], commands: [deploy, status, logs, scale, restart, rollback, config, pods, history, jobs, cancel, help, access] }
  C0OPS: { environments: ["*"], commands: ["*"] }
  C0ONCALL: { environments: [beta, prod], commands: [logs, restart, status, pods, nodes, history, audit, silence, silences, unsilence, help, access] }
alerts:
  - environments: [prod, beta]
    channel: C0ONCALL
    on: [OOMKilled, Unschedulable, CrashLoopBackOff, ImagePullBackOff, Evicted, NodeNotReady, NodePressure]
    pendingFor: 10s
`;
