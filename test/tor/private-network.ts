// A private Tor network on 127.0.0.1 for tests, built the way TOR.md measured it: three
// directory authorities that are also relays, one more relay, an onion host (the edge's Tor,
// control port only) and a client (SOCKS port, for core's outbound traffic). Nothing here
// knows the public Tor network: every torrc names only our own authorities.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dirAuthorityLine, type NodeSpec, renderKeygenTorrc, renderTorrc } from "./torrc.js";

/** Why the Tor tests cannot run here, or undefined when `tor` and `tor-gencert` exist. */
export const torMissing: string | undefined = (() => {
  for (const bin of ["tor", "tor-gencert"]) {
    if (spawnSync(bin, ["--version"], { stdio: "ignore" }).error) return `${bin} is not installed`;
  }
  return undefined;
})();

/** A running private network. */
export interface PrivateTorNetwork {
  readonly dir: string;
  /** The DirAuthority lines a further tor (such as the edge's) needs to join. */
  readonly dirAuthorities: readonly string[];
  readonly host: { readonly controlPort: number; readonly cookieFile: string };
  readonly client: {
    readonly socksPort: number;
    readonly controlPort: number;
    readonly cookieFile: string;
  };
  /** ms from start to every relay Running in the consensus, and to host and client bootstrapped. */
  readonly timings: { readonly consensusMs: number; readonly readyMs: number };
  /** The pids of every running tor, read from their PidFiles. */
  pids(): number[];
  /** Stops one node by its PidFile (a Tor restart or outage in a test). */
  stopNode(role: "host" | "client"): Promise<void>;
  /** Starts a stopped node again with the same torrc and data; resolves when bootstrapped. */
  startNode(role: "host" | "client"): Promise<void>;
  /** Stops every tor by its PidFile and removes the directory. */
  stop(): Promise<void>;
}

/** Builds and starts the network; resolves when the host and the client are bootstrapped. */
export async function startPrivateTorNetwork(): Promise<PrivateTorNetwork> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "tronpay-tor-"));
  const nodes = await planNodes(dir);
  const relays = nodes.filter((n) => n.role === "authority" || n.role === "relay");
  const dirAuthorities = relays.filter((n) => n.role === "authority").map(makeAuthorityKeys);
  for (const n of nodes)
    writeFileSync(torrcOf(n), renderTorrc(n, { dirAuthorities, ownerPid: process.pid }));
  const children = new Map<NodeSpec, ChildProcess>();
  const net = {
    dir,
    nodes,
    children,
    stopAll: () => Promise.all(nodes.map((n) => stopTor(n, children))),
  };
  try {
    for (const n of relays) startTor(n, children);
    await waitForConsensus(relays, 60_000);
    const consensusMs = Date.now() - started;
    const endpoints = nodes.filter((n) => n.role === "host" || n.role === "client");
    for (const n of endpoints) startTor(n, children);
    await Promise.all(endpoints.map((n) => waitForBootstrap(n, 60_000)));
    return handle(net, dirAuthorities, { consensusMs, readyMs: Date.now() - started });
  } catch (err) {
    await net.stopAll();
    throw new Error(`private Tor network failed to start (logs in ${dir})`, { cause: err });
  }
}

function handle(
  net: {
    dir: string;
    nodes: NodeSpec[];
    children: Map<NodeSpec, ChildProcess>;
    stopAll: () => Promise<unknown>;
  },
  dirAuthorities: string[],
  timings: PrivateTorNetwork["timings"],
): PrivateTorNetwork {
  const byRole = (role: "host" | "client") => net.nodes.find((n) => n.role === role) as NodeSpec;
  const host = byRole("host");
  return {
    dir: net.dir,
    dirAuthorities,
    host: {
      controlPort: host.controlPort as number,
      cookieFile: join(host.dir, "control_auth_cookie"),
    },
    client: {
      socksPort: byRole("client").socksPort as number,
      controlPort: byRole("client").controlPort as number,
      cookieFile: join(byRole("client").dir, "control_auth_cookie"),
    },
    timings,
    pids: () => net.nodes.flatMap((n) => readPid(n) ?? []),
    stopNode: (role) => stopTor(byRole(role), net.children),
    startNode: async (role) => {
      const n = byRole(role);
      writeFileSync(join(n.dir, "notice.log"), "");
      startTor(n, net.children);
      await waitForBootstrap(n, 60_000);
    },
    stop: async () => {
      await net.stopAll();
      rmSync(net.dir, { recursive: true, force: true });
    },
  };
}

async function planNodes(dir: string): Promise<NodeSpec[]> {
  const spec = (nick: string, role: NodeSpec["role"], ports: Partial<NodeSpec>): NodeSpec => {
    const nodeDir = join(dir, nick);
    mkdirSync(nodeDir, { recursive: true });
    chmodSync(nodeDir, 0o700);
    // Exit relays resolve names; this resolver can answer nothing outside the machine.
    writeFileSync(join(nodeDir, "resolv.conf"), "nameserver 127.0.0.1\n");
    return { nick, role, dir: nodeDir, ...ports };
  };
  const nodes: NodeSpec[] = [];
  for (const i of [0, 1, 2]) {
    nodes.push(
      spec(`auth${i}`, "authority", { orPort: await freePort(), dirPort: await freePort() }),
    );
  }
  nodes.push(spec("relay3", "relay", { orPort: await freePort() }));
  nodes.push(spec("host", "host", { controlPort: await freePort() }));
  nodes.push(
    spec("client", "client", { socksPort: await freePort(), controlPort: await freePort() }),
  );
  return nodes;
}

/** tor-gencert for the v3 identity, --list-fingerprint for the relay identity. */
function makeAuthorityKeys(n: NodeSpec): string {
  const keys = join(n.dir, "keys");
  mkdirSync(keys, { recursive: true, mode: 0o700 });
  const gencert = spawnSync(
    "tor-gencert",
    [
      "--create-identity-key",
      "-m",
      "12",
      "-a",
      `127.0.0.1:${n.dirPort}`,
      "-i",
      join(keys, "authority_identity_key"),
      "-s",
      join(keys, "authority_signing_key"),
      "-c",
      join(keys, "authority_certificate"),
      "--passphrase-fd",
      "0",
    ],
    { input: "", encoding: "utf8" },
  );
  if (gencert.status !== 0) throw new Error(`tor-gencert failed: ${gencert.stderr}`);
  const cert = readFileSync(join(keys, "authority_certificate"), "utf8");
  const v3ident = /^fingerprint ([0-9A-F]{40})$/m.exec(cert)?.[1];
  if (!v3ident) throw new Error("no fingerprint in the authority certificate");
  const keygen = join(n.dir, "keygen.torrc");
  writeFileSync(keygen, renderKeygenTorrc(n));
  const list = spawnSync(
    "tor",
    ["--defaults-torrc", "/dev/null", "-f", keygen, "--list-fingerprint"],
    {
      encoding: "utf8",
    },
  );
  if (list.status !== 0)
    throw new Error(`tor --list-fingerprint failed: ${list.stdout}${list.stderr}`);
  const fingerprint = readFileSync(join(n.dir, "fingerprint"), "utf8").trim().split(" ")[1];
  if (!fingerprint) throw new Error("no relay fingerprint");
  return dirAuthorityLine(n.nick, n.orPort as number, n.dirPort as number, v3ident, fingerprint);
}

const torrcOf = (n: NodeSpec) => join(n.dir, "torrc");

function startTor(n: NodeSpec, children: Map<NodeSpec, ChildProcess>): void {
  // Always our own torrc and nothing from /etc/tor (which would name the public network).
  const child = spawn("tor", ["--defaults-torrc", "/dev/null", "-f", torrcOf(n)], {
    stdio: "ignore",
  });
  child.on("error", () => {});
  children.set(n, child);
}

function readPid(n: NodeSpec): number | undefined {
  try {
    const pid = Number(readFileSync(join(n.dir, "tor.pid"), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** SIGTERM by PidFile (the pid tor itself wrote), SIGKILL after 5 s. */
async function stopTor(n: NodeSpec, children: Map<NodeSpec, ChildProcess>): Promise<void> {
  const child = children.get(n);
  const pid = readPid(n) ?? child?.pid;
  children.delete(n);
  if (pid === undefined || !alive(pid)) return;
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 5_000;
  while (alive(pid) && Date.now() < deadline) await sleep(50);
  if (alive(pid)) process.kill(pid, "SIGKILL");
  while (alive(pid)) await sleep(20);
  rmSync(join(n.dir, "tor.pid"), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A tor that exited but was not yet reaped by us is a zombie: count it as gone.
    return !readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2]?.startsWith("Z");
  } catch {
    return false;
  }
}

async function waitForBootstrap(n: NodeSpec, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    let log = "";
    try {
      log = readFileSync(join(n.dir, "notice.log"), "utf8");
    } catch {}
    if (log.includes("Bootstrapped 100%")) return;
    if (Date.now() > deadline) throw new Error(`${n.nick} did not bootstrap in ${ms} ms`);
    await sleep(100);
  }
}

/** Until an authority's consensus lists every relay as Running. */
async function waitForConsensus(relays: NodeSpec[], ms: number): Promise<void> {
  const auth = relays.find((n) => n.role === "authority") as NodeSpec;
  const url = `http://127.0.0.1:${auth.dirPort}/tor/status-vote/current/consensus`;
  const deadline = Date.now() + ms;
  for (;;) {
    const running = runningNicks(await httpGet(url).catch(() => ""));
    if (relays.every((n) => running.has(n.nick))) return;
    if (Date.now() > deadline) throw new Error(`consensus lists only ${[...running]}`);
    await sleep(250);
  }
}

/** Nicknames on `r` lines whose following `s` line has the Running flag. */
function runningNicks(consensus: string): Set<string> {
  const out = new Set<string>();
  let nick: string | undefined;
  for (const line of consensus.split("\n")) {
    if (line.startsWith("r ")) nick = line.split(" ")[1];
    else if (line.startsWith("s ") && nick && line.split(" ").includes("Running")) out.add(nick);
  }
  return out;
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 2_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve(res.statusCode === 200 ? body : ""));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/** A loopback port that was just free (bound and released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
