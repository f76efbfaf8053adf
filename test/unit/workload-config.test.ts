import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { checkPolicy, describeAllowance, type MembershipResolver } from '../../src/policy/index.js';

const base = (apps: string, channels = '') => `
environments:
  beta: { namespace: beta }
apps:
${apps}
channels:
  C0OPS: { environments: ["*"], commands: ["*"] }
${channels}`;

const problems = (yaml: string): string => {
  try {
    parseConfig(yaml, 'c.yaml');
    return '';
  } catch (err) {
    return (err as Error).message;
  }
};

describe('config checks a real API server would otherwise make at deploy time', () => {
  it('refuses an app name that renders a Service but is not a DNS-1035 label', () => {
    expect(problems(base('  2fa: { image: r/2fa, port: 8080 }'))).toMatch(
      /apps\.2fa: "2fa" renders a Service, whose name must be a DNS-1035 label/,
    );
    // Without a Service, a DNS-1123 name is enough; adopted, the name is only a handle.
    expect(problems(base('  2fa: { image: r/2fa }'))).toBe('');
    expect(problems(base('  2fa: { image: r/2fa, workload: { kind: Deployment, name: twofa, container: web } }'))).toBe('');
  });

  it("parses quantities with client-node's helpers and refuses requests above limits", () => {
    expect(problems(base('  a: { image: r/a, resources: { requests: { cpu: lots } } }'))).toMatch(
      /apps\.a\.resources\.requests\.cpu: must be a Kubernetes quantity/,
    );
    expect(problems(base('  a: { image: r/a, resources: { requests: { memory: 1Gi }, limits: { memory: 512Mi } } }'))).toMatch(
      /apps\.a\.resources\.requests\.memory: the request 1Gi is above the limit 512Mi/,
    );
    expect(
      problems(
        base(
          '  a: { image: r/a, resources: { requests: { cpu: 500m }, limits: { cpu: "1" } }, environments: { beta: { resources: { requests: { cpu: "2" }, limits: { cpu: 1500m } } } } }',
        ),
      ),
    ).toMatch(/apps\.a\.environments\.beta\.resources\.requests\.cpu: the request 2 is above the limit 1500m/);
    expect(
      problems(base('  a: { image: r/a, resources: { requests: { cpu: 0.5, memory: 1.5Gi }, limits: { cpu: 500m, memory: 2Gi } } }')),
    ).toBe('');
  });

  it('refuses template fields on an adopted app, and fields that do not fit the kind', () => {
    expect(problems(base('  a: { image: r/a, port: 80, workload: { kind: Deployment, name: web, container: web } }'))).toMatch(
      /apps\.a\.port: `port` shapes a rendered app/,
    );
    expect(problems(base('  a: { image: r/a, storage: { size: 1Gi, mountPath: /data } }'))).toMatch(
      /apps\.a\.storage: `storage` needs `kind: StatefulSet`/,
    );
    expect(problems(base('  a: { image: r/a, ingress: { host: a.example.com } }'))).toMatch(
      /apps\.a\.ingress: an Ingress routes to the app's Service/,
    );
    expect(problems(base('  a: { image: r/a, port: 80, ports: { http: 80 } }'))).toMatch(/give `port` or `ports`, not both/);
    expect(problems(base('  a: { image: r/a, healthCheck: { http: { path: /h, port: 80 }, tcp: 80 } }'))).toMatch(
      /exactly one of `http`, `tcp` or `exec`/,
    );
    expect(problems(base('  a: { image: r/a, labels: { "bad key!": x } }'))).toMatch(/apps\.a\.labels\.bad key!: label key/);
  });

  it('refuses a channel binding naming an unknown app', () => {
    expect(problems(base('  a: { image: r/a }', '  C0TEAM: { environments: [beta], commands: ["*"], apps: [a, b] }'))).toMatch(
      /channels\.C0TEAM\.apps\.1: unknown app "b"/,
    );
  });
});

describe('apps owned by teams', () => {
  const config = parseConfig(
    base('  web: { image: r/web }\n  api: { image: r/api }', '  C0TEAM: { environments: [beta], commands: [deploy, status], apps: [web] }'),
    'c.yaml',
  );
  const members: MembershipResolver = { isMember: async () => true };
  const req = (app: string) => ({ channelId: 'C0TEAM', userId: 'U1', verb: 'deploy', verbClass: 'write' as const, env: 'beta', app });

  it("refuses another team's app like a denied environment, naming the apps this channel may use", async () => {
    await expect(checkPolicy(config, req('api'), ['deploy', 'status'], members)).rejects.toMatchObject({
      kind: 'denied',
      userMessage: expect.stringMatching(/may not touch the app `api`[\s\S]*for the apps `web`/),
    });
    await expect(checkPolicy(config, req('web'), ['deploy', 'status'], members)).resolves.toBeUndefined();
  });

  it('says nothing about apps where every app is allowed', () => {
    expect(describeAllowance(config, 'C0OPS', ['deploy'])).not.toContain('for the apps');
  });
});
