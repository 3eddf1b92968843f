// torrc files for a private Tor network on 127.0.0.1 (see /work/shared/TOR.md). Every file
// written here carries the safety lines: TestingTorNetwork, our own DirAuthority lines only,
// no fallback directories, IPv4 loopback only, and a resolver that names only 127.0.0.1.

/** One tor process of the private network and its loopback ports. */
export interface NodeSpec {
  readonly nick: string;
  readonly role: "authority" | "relay" | "host" | "client";
  readonly dir: string;
  readonly orPort?: number;
  readonly dirPort?: number;
  readonly socksPort?: number;
  readonly controlPort?: number;
}

/** What every node shares: the authorities and the process that owns them all. */
export interface NetworkSpec {
  readonly dirAuthorities: readonly string[];
  readonly ownerPid: number;
}

/** Tor's own test-network tuning, from TOR.md's measured recipe; the same for every node. */
const COMMON = [
  "TestingTorNetwork 1",
  "UseDefaultFallbackDirs 0",
  "ClientUseIPv6 0",
  "AssumeReachable 1",
  "PathsNeededToBuildCircuits 0.67",
  "TestingDirAuthVoteExit *",
  "TestingDirAuthVoteGuard *",
  "TestingDirAuthVoteHSDir *",
  "TestingMinExitFlagThreshold 0",
  "V3AuthNIntervalsValid 2",
  "LearnCircuitBuildTimeout 0",
  "CircuitBuildTimeout 30",
  "ShutdownWaitLength 0",
  "RunAsDaemon 0",
  "SafeLogging 0",
  "ServerDNSAllowBrokenConfig 1",
  "ServerDNSDetectHijacking 0",
];

const AUTHORITY = [
  "AuthoritativeDirectory 1",
  "V3AuthoritativeDirectory 1",
  "TestingV3AuthInitialVotingInterval 5",
  "TestingV3AuthInitialVoteDelay 2",
  "TestingV3AuthInitialDistDelay 2",
  "V3AuthVotingInterval 10",
  "V3AuthVoteDelay 2",
  "V3AuthDistDelay 2",
];

/** Relays exit only to loopback: a client's stream may reach the devnet, nothing else. */
const RELAY = [
  "Address 127.0.0.1",
  "ExitRelay 1",
  "ExitPolicyRejectPrivate 0",
  "ExitPolicy accept 127.0.0.0/8:*",
  "ExitPolicy reject *:*",
];

/** The DirAuthority line every node of the network gets for one authority. */
export function dirAuthorityLine(
  nick: string,
  orPort: number,
  dirPort: number,
  v3ident: string,
  fingerprint: string,
): string {
  return `DirAuthority ${nick} orport=${orPort} v3ident=${v3ident} 127.0.0.1:${dirPort} ${fingerprint}`;
}

/** The full torrc of one node. */
export function renderTorrc(node: NodeSpec, net: NetworkSpec): string {
  const lines = [
    `Nickname ${node.nick}`,
    `DataDirectory ${node.dir}`,
    `PidFile ${node.dir}/tor.pid`,
    `Log notice file ${node.dir}/notice.log`,
    `ServerDNSResolvConfFile ${node.dir}/resolv.conf`,
    `__OwningControllerProcess ${net.ownerPid}`,
    ...COMMON,
    ...net.dirAuthorities,
    `SocksPort ${node.socksPort ? `127.0.0.1:${node.socksPort}` : "0"}`,
  ];
  if (node.orPort) lines.push(`ORPort 127.0.0.1:${node.orPort}`, ...RELAY);
  if (node.role === "authority") lines.push(`DirPort 127.0.0.1:${node.dirPort}`, ...AUTHORITY);
  // Plain relays cache nothing: the three authorities serve the directory.
  if (node.role === "relay") lines.push("DirCache 0");
  if (node.controlPort) {
    lines.push(`ControlPort 127.0.0.1:${node.controlPort}`, "CookieAuthentication 1");
  }
  // Exit policies of loopback destinations are only in full descriptors, not microdescriptors.
  if (node.role === "client") lines.push("UseMicrodescriptors 0");
  return `${lines.join("\n")}\n`;
}

/**
 * A torrc only for `tor --list-fingerprint` (which makes the relay's identity key and
 * connects nowhere): the real authority lines are not known yet, so it names a placeholder
 * authority on loopback, because a test-network tor needs at least one.
 */
export function renderKeygenTorrc(node: NodeSpec): string {
  const zero = "0".repeat(40);
  return renderTorrc(node, {
    dirAuthorities: [dirAuthorityLine("placeholder", 1, 1, zero, zero)],
    ownerPid: process.pid,
  });
}
