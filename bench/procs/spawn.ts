/** Child processes for the benchmarks: started in their own process group, read line by line, stopped with their children. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Child {
  process: ChildProcess;
  /** Resolves with the first stdout line that matches. */
  line(match: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export function start(command: string[], env: NodeJS.ProcessEnv = process.env, name = command.join(' ')): Child {
  const child = spawn(command[0]!, command.slice(1), { env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  const lines: string[] = [];
  const waiters: Array<{ match: RegExp; resolve: (l: string) => void }> = [];
  const stdoutClosed = new Promise<void>((resolve) => child.stdout!.once('close', () => resolve()));
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters.filter((w) => w.match.test(l))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(l);
    }
  });
  return {
    process: child,
    line(match, timeoutMs = 120_000) {
      const seen = lines.find((l) => match.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const exited = (code: number | null) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (${code}) before printing ${match}`));
        };
        const timer = setTimeout(() => {
          child.off('exit', exited);
          reject(new Error(`${name}: no line matching ${match} within ${timeoutMs} ms`));
        }, timeoutMs);
        child.once('exit', exited);
        waiters.push({
          match,
          resolve: (l) => {
            clearTimeout(timer);
            child.off('exit', exited);
            resolve(l);
          },
        });
      });
    },
    /**
     * SIGTERM to the whole group, then waits until every process in it is gone — not just
     * the direct child: `npm start` or `npx tsx` exit at once and leave their node process
     * draining. The group shares our stdout pipe, so its close is the group's last exit.
     * SIGKILL for what is still there after 10 s.
     */
    async stop() {
      if (child.pid === undefined) return;
      const pid = child.pid;
      const gone = Promise.all([
        child.exitCode !== null || child.signalCode !== null ? undefined : new Promise((r) => child.once('exit', r)),
        stdoutClosed,
      ]);
      signalGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** Signals a process group; one that has already gone is not an error. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** The port a process started with PORT=0 bound, from its `k8s-chatops started` log line. */
export function startedPort(line: string): number {
  const port = (JSON.parse(line) as { port?: unknown }).port;
  if (typeof port !== 'number' || port <= 0) throw new Error(`no port in the start line: ${line}`);
  return port;
}

/** Resolves once `url` answers 200 (a process's /healthz). */
export async function healthy(url: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} not healthy within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
