/**
 * The `pods/exec` subresource as the API server and kubelet serve it: an HTTP
 * upgrade to WebSocket with a `*.channel.k8s.io` subprotocol; every frame
 * starts with its channel byte (1 stdout, 2 stderr, 3 the final Status whose
 * `details.causes` carry the ExitCode; v5 adds 255 = close a channel).
 * Commands answer from a script the test sets; anything else is "not found",
 * as a container without that binary answers.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Store } from './store.js';
import { mustResource } from './resources.js';

const POD = mustResource('v1', 'Pod');
const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

export interface ExecScript {
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /** Output arrives after this long, to test timeouts. */
  delayMs?: number;
}

export interface ExecCall {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  protocol: string;
}

function refuse(socket: Duplex, code: number, reason: string, message: string): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  socket.end(
    `HTTP/1.1 ${code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const frame = (channel: number, data: string | Buffer) =>
  Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data)]);

export class ExecEmulator {
  private readonly scripts = new Map<string, ExecScript>();
  readonly calls: ExecCall[] = [];
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });

  constructor(
    private readonly store: Store,
    private readonly isDenied: (namespace: string, pod: string) => boolean,
  ) {}

  /** What `command` (argv, exactly) prints and exits with, in any pod. */
  script(command: string[], result: ExecScript): void {
    this.scripts.set(JSON.stringify(command), result);
  }

  close(): void {
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }

  /** Handles an HTTP upgrade; returns false when the path is not an exec. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname);
    if (!m) return false;
    const [, namespace, name] = m as unknown as [string, string, string];
    if (this.isDenied(namespace, name)) {
      refuse(
        socket,
        403,
        'Forbidden',
        `pods "${name}" is forbidden: User "emulator-user" cannot create resource "pods/exec" in API group "" in the namespace "${namespace}"`,
      );
      return true;
    }
    const pod = this.store.get(POD, namespace, name);
    if (!pod) {
      refuse(socket, 404, 'NotFound', `pods "${name}" not found`);
      return true;
    }
    const command = url.searchParams.getAll('command');
    if (command.length === 0) {
      refuse(socket, 400, 'BadRequest', 'you must specify at least 1 command');
      return true;
    }
    const containers: string[] = (pod.spec?.containers ?? []).map((c: any) => c.name);
    const container = url.searchParams.get('container') ?? (containers.length === 1 ? containers[0]! : '');
    if (!container) {
      refuse(socket, 400, 'BadRequest', `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`);
      return true;
    }
    const status = (pod.status?.containerStatuses ?? []).find((s: any) => s.name === container);
    if (!containers.includes(container) || pod.status?.phase !== 'Running' || !status?.state?.running) {
      refuse(socket, 400, 'BadRequest', `unable to upgrade connection: container not found ("${container}")`);
      return true;
    }
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    if (!PROTOCOLS.some((p) => offered.includes(p))) {
      refuse(socket, 400, 'BadRequest', 'unable to upgrade connection: no supported stream protocol was offered');
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.run(ws, { namespace, pod: name, container, command, protocol: ws.protocol }));
    return true;
  }

  private run(ws: WebSocket, call: ExecCall): void {
    this.calls.push(call);
    const script = this.scripts.get(JSON.stringify(call.command)) ?? {
      stderr: `OCI runtime exec failed: exec failed: unable to start container process: exec: "${call.command[0]}": executable file not found in $PATH: unknown\r\n`,
      exitCode: 126,
    };
    const send = () => {
      if (ws.readyState !== ws.OPEN) return;
      if (script.stdout) ws.send(frame(1, script.stdout));
      if (script.stderr) ws.send(frame(2, script.stderr));
      const code = script.exitCode ?? 0;
      const status =
        code === 0
          ? { metadata: {}, status: 'Success' }
          : {
              metadata: {},
              status: 'Failure',
              message: `command terminated with non-zero exit code: error executing command [${call.command.join(' ')}], exit code ${code}`,
              reason: 'NonZeroExitCode',
              details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
            };
      ws.send(frame(3, JSON.stringify(status)));
      ws.close(1000);
    };
    if (script.delayMs) setTimeout(send, script.delayMs).unref();
    else send();
  }
}
