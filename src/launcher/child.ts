import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { createInterface } from "node:readline";

/** A tronpay process run by the launcher, its JSON log going to a file. */
export interface Child {
  readonly name: string;
  readonly logFile: string;
  /** Resolves with the first log line whose msg matches; rejects if the child exits first. */
  waitForLog(msg: string, ms: number): Promise<Record<string, unknown>>;
  /** True until the child has exited. */
  running(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** Resolves with the exit code (or signal) when the child exits on its own or is stopped. */
  readonly exited: Promise<string>;
}

const ROOT = new URL("../../", import.meta.url).pathname;

/**
 * True when the launcher itself runs built JavaScript (dist/, what `npm start` runs): its
 * children are then the built entry points run by plain node. From the sources (tests that
 * import the launcher, `node --import tsx src/launcher/main.ts`) they run through tsx.
 */
const BUILT = !import.meta.url.endsWith(".ts");

/**
 * The file of a process's entry point, `part` being e.g. "core/app/main": beside the launcher's
 * own directory, built or not as the launcher is.
 */
export function entryFile(part: string): string {
  return new URL(`../${part}.${BUILT ? "js" : "ts"}`, import.meta.url).pathname;
}

/** Starts a process's entry point (see entryFile) with `nodeFlags`; logs go to `logFile` only. */
export function startChild(
  name: string,
  part: string,
  env: NodeJS.ProcessEnv,
  logFile: string,
  nodeFlags: readonly string[] = [],
): Child {
  const out = createWriteStream(logFile, { flags: "a", mode: 0o600 });
  const loader = BUILT ? [] : ["--import", "tsx"];
  const child = spawn(process.execPath, [...nodeFlags, ...loader, entryFile(part)], {
    cwd: ROOT,
    env,
    // Its own process group: Ctrl-C reaches the launcher only, which stops children in order.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const waiters = new Set<(line: Record<string, unknown>) => void>();
  const recent: string[] = [];
  const onLine = (line: string) => {
    out.write(`${line}\n`);
    recent.push(line);
    if (recent.length > 20) recent.shift();
    const parsed = parseJson(line);
    if (parsed) for (const w of [...waiters]) w(parsed);
  };
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", onLine);
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", onLine);
  const exited = new Promise<string>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ?? String(code))),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    logFile,
    exited,
    running,
    waitForLog: (msg, ms) => waitFor(waiters, recent, exited, { name, msg, ms }),
    stop: (graceMs = 10_000) => stopChild(child, out, exited, graceMs),
  };
}

function waitFor(
  waiters: Set<(line: Record<string, unknown>) => void>,
  recent: string[],
  exited: Promise<string>,
  what: { name: string; msg: string; ms: number },
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const tail = () => recent.slice(-8).join("\n");
    const done = () => {
      clearTimeout(timer);
      waiters.delete(waiter);
    };
    const waiter = (line: Record<string, unknown>) => {
      if (line.msg !== what.msg) return;
      done();
      resolve(line);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${what.name} did not log "${what.msg}" within ${what.ms} ms:\n${tail()}`));
    }, what.ms);
    waiters.add(waiter);
    void exited.then((how) => {
      if (!waiters.has(waiter)) return;
      done();
      reject(new Error(`${what.name} exited (${how}) before "${what.msg}":\n${tail()}`));
    });
  });
}

async function stopChild(
  child: ChildProcess,
  out: WriteStream,
  exited: Promise<string>,
  graceMs: number,
): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
}

function parseJson(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
