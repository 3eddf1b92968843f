// Which processes hold open TCP connections to a loopback port (Linux /proc): every peer of
// a test server is 127.0.0.1, so the owner of the client socket is what tells a connection
// opened by a tor exit relay from one opened by the test process itself.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Pids (among `candidates`) owning an established IPv4 connection to 127.0.0.1:`port`. */
export function ownersOfConnectionsTo(port: number, candidates: readonly number[]): number[] {
  const inodes = new Set<string>();
  const table = readFileSync("/proc/net/tcp", "utf8").trim().split("\n").slice(1);
  for (const row of table) {
    const cols = row.trim().split(/\s+/);
    const remote = cols[2] ?? "";
    // rem_address is "0100007F:PORT" in hex; state 01 is ESTABLISHED.
    if (
      remote === `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}` &&
      cols[3] === "01"
    ) {
      inodes.add(cols[9] ?? "");
    }
  }
  return candidates.filter((pid) => socketInodes(pid).some((inode) => inodes.has(inode)));
}

function socketInodes(pid: number): string[] {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  return fds.flatMap((fd) => {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      return m ? [m[1] as string] : [];
    } catch {
      return [];
    }
  });
}
