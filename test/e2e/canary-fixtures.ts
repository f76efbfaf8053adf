/** Shared by the canary promote-undo e2e tests: one app with a one-step canary, quick to fail its rollouts. */
export const CANARY_IMAGE = 'registry.example.com/team/myapp';

export const CANARY_CONFIG = (kubeconfig: string) => `
clusters:
  default: { context: emulator, kubeconfig: ${kubeconfig} }
environments:
  beta: { cluster: default, namespace: beta }
apps:
  myapp:
    image: ${CANARY_IMAGE}
    port: 8080
    replicas: 2
    progressDeadlineSeconds: 2
    canary: { steps: [50], maxRestarts: 5, maxUnready: 10m, maxDuration: 2h }
channels:
  C0OPS: { environments: ["*"], commands: ["*"] }
`;
