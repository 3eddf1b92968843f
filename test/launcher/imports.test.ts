import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The packages a source file loads at start: its static imports, followed through src/. */
async function packagesLoadedAtStart(entry: string): Promise<Set<string>> {
  const result = await build({
    entryPoints: [`${ROOT}${entry}`],
    bundle: true,
    write: false,
    platform: "node",
    format: "esm",
    packages: "external",
    metafile: true,
    logLevel: "silent",
    outdir: "out",
  });
  const packages = new Set<string>();
  for (const input of Object.values(result.metafile.inputs))
    for (const imp of input.imports) {
      // import() of a package is loaded when called, not at start.
      if (!imp.external || imp.kind !== "import-statement" || imp.path.startsWith("node:"))
        continue;
      const parts = imp.path.split("/");
      packages.add(parts.slice(0, imp.path.startsWith("@") ? 2 : 1).join("/"));
    }
  return packages;
}

describe("what each process loads at start", () => {
  it("no process loads tronweb at start (core imports it on its first build)", async () => {
    for (const entry of [
      "src/core/app/main.ts",
      "src/signer/main.ts",
      "src/edge/main.ts",
      "src/launcher/main.ts",
      "src/cli/main.ts",
    ]) {
      const loaded = await packagesLoadedAtStart(entry);
      // The walk sees packages: the list is not empty for any of them.
      expect(loaded.has("@bufbuild/protobuf"), entry).toBe(true);
      expect(loaded.has("tronweb"), entry).toBe(false);
    }
  });

  it("sees a static tronweb import where there is one (the devnet test helpers)", async () => {
    expect((await packagesLoadedAtStart("test/devnet/helpers.ts")).has("tronweb")).toBe(true);
  });

  it("the embedded database's packages load in its own thread only", async () => {
    expect((await packagesLoadedAtStart("src/launcher/main.ts")).has("@electric-sql/pglite")).toBe(
      false,
    );
    expect(
      (await packagesLoadedAtStart("src/launcher/pglite-worker.ts")).has("@electric-sql/pglite"),
    ).toBe(true);
  });
});
