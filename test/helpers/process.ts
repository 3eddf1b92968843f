import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { childCoverageEnv } from "./coverage.js";

/** A real tronpay process started by a test, with its JSON log lines. */
export interface TestProcess {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the first log line whose msg matches. */
  waitForLog(msg: string, ms?: number): Promise<Record<string, unknown>>;
  /** SIGKILL: no cleanup, as in a crash. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
}

const ROOT = new URL("../../", import.meta.url).pathname;

/** Starts `node --import tsx <entry>` from the repository root with the given environment. */
export function startProcess(
  entry: string,
  env: Record<string, string>,
  args: string[] = [],
): TestProcess {
  const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", ...childCoverageEnv(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters: { msg: string; resolve: (v: Record<string, unknown>) => void }[] = [];
  const onLine = (line: string) => {
    lines.push(line);
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    for (const w of [...waiters]) {
      if (parsed.msg === w.msg) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(parsed);
      }
    }
  };
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", onLine);
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", onLine);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    lines,
    waitForLog(msg, ms = 60_000) {
      const seen = lines.map((l) => safeParse(l)).find((p) => p?.msg === msg);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `${entry}: no "${msg}" log within ${ms} ms:\n${lines.slice(-20).join("\n")}`,
              ),
            ),
          ms,
        );
        const exitEarly = () =>
          reject(new Error(`${entry} exited before "${msg}":\n${lines.slice(-20).join("\n")}`));
        child.once("exit", exitEarly);
        waiters.push({
          msg,
          resolve: (v) => {
            clearTimeout(timer);
            child.off("exit", exitEarly);
            resolve(v);
          },
        });
      });
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

function safeParse(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
