import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";

/**
 * Supervised tronpay processes for the chaos harness and the benchmarks. A process that dies
 * (SIGKILL from the harness, or a failpoint) is restarted at once with the same environment
 * and port, so clients keep one address. Log lines are kept in a small ring: a long run must
 * not grow memory with every line.
 */

const ROOT = new URL("../", import.meta.url).pathname;
const RING = 200;

export interface ProcSpec {
  /** Short name in reports: core-a, signer, edge. */
  name: string;
  /** src/….ts (run with tsx) or dist/….js (built by npm run build, run by node). */
  entry: string;
  env: Record<string, string>;
  /** The log message that says the process is serving. */
  readyMsg: string;
  /** Node flags before the entry (e.g. --cpu-prof, which NODE_OPTIONS refuses). */
  nodeArgs?: string[];
}

/** A process kept running: restarted whenever it exits, until stop(). */
export class Supervised {
  child: ChildProcess | undefined;
  /** Deaths by cause: kill (the harness), failpoint (armed on a restart), other. */
  readonly deaths = { kill: 0, failpoint: 0, other: 0 };
  readonly lines: string[] = [];
  private stopping = false;
  private killing = false;
  private armed: string | undefined;
  private ready: Promise<void> = Promise.resolve();

  constructor(readonly spec: ProcSpec) {}

  /** Starts the process (optionally with a failpoint armed) and resolves once it is ready. */
  start(failpoint?: string): Promise<void> {
    this.armed = failpoint;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      LOG_LEVEL: "info",
      ...this.spec.env,
    };
    if (failpoint) env.TRONPAY_FAILPOINT = failpoint;
    // Built JavaScript (dist/) runs as it is; TypeScript sources through tsx.
    const nodeArgs = this.spec.nodeArgs ?? [];
    const args = this.spec.entry.endsWith(".js")
      ? [...nodeArgs, this.spec.entry]
      : [...nodeArgs, "--import", "tsx", this.spec.entry];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    let onReady: () => void = () => {};
    let onFail: (e: Error) => void = () => {};
    this.ready = new Promise<void>((resolve, reject) => {
      onReady = resolve;
      onFail = reject;
    });
    const onLine = (line: string) => {
      this.lines.push(line);
      if (this.lines.length > RING) this.lines.shift();
      if (line.includes(`"msg":"${this.spec.readyMsg}"`)) onReady();
    };
    if (child.stdout) createInterface({ input: child.stdout }).on("line", onLine);
    if (child.stderr) createInterface({ input: child.stderr }).on("line", onLine);
    child.once("exit", (_code, signal) => {
      onFail(
        new Error(`${this.spec.name} exited before ready:\n${this.lines.slice(-10).join("\n")}`),
      );
      this.onExit(signal);
    });
    return this.ready;
  }

  /** Resolves when the current incarnation is serving. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  /** SIGKILL now (false if not running); the supervisor restarts it, maybe with a failpoint. */
  kill9(restartWith?: string): boolean {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return false;
    this.killing = true;
    this.nextFailpoint = restartWith;
    this.child.kill("SIGKILL");
    return true;
  }

  private nextFailpoint: string | undefined;

  private onExit(signal: NodeJS.Signals | null): void {
    if (this.stopping) return;
    if (this.killing) this.deaths.kill++;
    else if (this.armed && signal === "SIGKILL") this.deaths.failpoint++;
    else this.deaths.other++;
    this.killing = false;
    const next = this.nextFailpoint;
    this.nextFailpoint = undefined;
    // A failpoint fires once per incarnation; the restart runs clean unless told otherwise.
    this.start(next).catch(() => {});
  }

  /** SIGTERM, no restart; resolves on exit. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }

  /** The pid of the running incarnation (for /proc readings). */
  pid(): number | undefined {
    return this.child?.pid;
  }
}

/** A free TCP port on loopback (bound and released), so a restarted process keeps its port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
