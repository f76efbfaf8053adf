import { parseConfig } from '../../src/config/load.js';

export const CONFIG_YAML = `
environments:
  beta: { namespace: beta }
  prod:
    namespace: prod
    promoteFrom: beta
    approval: { approvers: [U0OPSLEAD, S0OPSGROUP], minApprovals: 1, timeout: 30m }
apps:
  myapp:
    image: registry.example.com/team/myapp
    defaultTag: latest
    port: 8080
    replicas: 2
    resources: { requests: { cpu: 100m, memory: 128Mi }, limits: { memory: 256Mi } }
    env: { LOG_LEVEL: info }
    environments: { prod: { replicas: 4 } }
channels:
  C0DEVTEAM: { environments: [beta], commands: [deploy, status, logs, scale, restart, rollback, config, pods, help, access] }
  C0OPS: { environments: ["*"], commands: ["*"] }
  C0RELEASE: { environments: [prod], commands: [status, deploy], members: [S0RELEASERS] }
alerts:
  - environments: [prod, beta]
    channel: C0ONCALL
    on: [OOMKilled, Unschedulable]
    pendingFor: 2m
`;

export const config = parseConfig(CONFIG_YAML, 'test.yaml');
