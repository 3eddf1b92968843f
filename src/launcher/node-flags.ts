/**
 * Node.js (V8) flags per process, for `npm start` and for the Pi and Kubernetes manifests
 * (test/deploy checks they pass the same ones). Measured with `npm run bench:footprint`:
 * - a small young generation (`--max-semi-space-size`, MiB): V8's default grows each semi-space
 *   to 16 MiB under allocation and keeps it, about twice what these processes keep alive in it;
 *   scavenges of a smaller one are shorter, and there are more of them;
 * - a heap cap (`--max-old-space-size`, MiB) well above each process's live heap under load, so
 *   a leak ends in a restart rather than in the Pi swapping.
 */
export const NODE_FLAGS = {
  core: ["--max-semi-space-size=2", "--max-old-space-size=256"],
  signer: ["--max-semi-space-size=1", "--max-old-space-size=128"],
  edge: ["--max-semi-space-size=1", "--max-old-space-size=128"],
} as const satisfies Record<string, readonly string[]>;

/** Each process's entry point under src/ (or dist/), without the extension. */
export const ENTRY_POINTS = {
  core: "core/app/main",
  signer: "signer/main",
  edge: "edge/main",
} as const;
