/**
 * npm run sandbox: the bot against the Slack and Kubernetes emulators of test/support,
 * on this machine, with no workspace or cluster. Type commands as you would after /k8s;
 * the bot's answers and thread messages are printed as Slack would show them.
 */
import { createInterface } from 'node:readline';
import { startHarness } from '../test/support/harness.js';

const h = await startHarness({ name: 'sandbox' });
let seen = h.slack.calls.length;
let seenResponses = 0;
const show = () => {
  for (const call of h.slack.calls.slice(seen)) {
    if (call.method === 'chat.postMessage' || call.method === 'chat.update') {
      const where = call.method === 'chat.update' ? 'updated' : call.args.thread_ts ? '  thread' : 'channel';
      console.log(`[${where} ${call.args.channel}] ${call.args.text}`);
    }
  }
  seen = h.slack.calls.length;
  for (const r of h.slack.responses.slice(seenResponses)) console.log(`[only you] ${r.body.text}`);
  seenResponses = h.slack.responses.length;
};
const timer = setInterval(show, 200);

console.log(`k8s-chatops sandbox — bot on ${h.baseUrl}, Kubernetes emulator on ${h.kube.url} (kubeconfig ${h.kubeconfig}).`);
console.log('You are U0DEV in channel C0DEVTEAM (beta only). Prefix a line with "ops:" to speak in C0OPS (everything).');
console.log('Try: deploy myapp beta 1.4.2 · status myapp beta · help · ops: deploy myapp prod.  Ctrl-D quits.\n');
const rl = createInterface({ input: process.stdin, prompt: '/k8s ' });
rl.prompt();
for await (const line of rl) {
  if (line.trim()) {
    const ops = line.startsWith('ops:');
    const res = await h.command(ops ? line.slice(4).trim() : line, { channel: ops ? 'C0OPS' : 'C0DEVTEAM' });
    console.log(`[ack ${res.status}] ${res.json?.text ?? ''}`);
  }
  rl.prompt();
}
// Input ended (Ctrl-D or a piped script): let running jobs report, then stop.
await new Promise((resolve) => setTimeout(resolve, Number(process.env.SANDBOX_LINGER_MS ?? 3_000)));
show();
clearInterval(timer);
await h.stop();
process.exit(0);
