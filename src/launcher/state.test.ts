import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { launcherPaths, loadLauncherConfig } from "./config.js";
import { launcherStateFile, readLauncherState, writeLauncherState } from "./state.js";

const dir = mkdtempSync(join(tmpdir(), "tp-launcher-state-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("launcher.json", () => {
  it("is an empty state while absent", () => {
    expect(readLauncherState(join(dir, "none.json"))).toEqual({ funded: [] });
  });

  it("reads back what was written, owner-only, with no temporary file left", () => {
    const file = join(dir, "launcher.json");
    const state = {
      coreUrl: "http://127.0.0.1:50051",
      payoutWallet: { id: "w-1", address: "TAddr" },
      funded: ["TAddr"],
      adminKeyId: "k-1",
    };
    writeLauncherState(file, state);
    expect(readLauncherState(file)).toEqual(state);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(() => statSync(`${file}.tmp`)).toThrow();
  });

  it("refuses a file that does not match the schema", () => {
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify({ funded: "TAddr" }));
    expect(() => readLauncherState(file)).toThrow();
    writeFileSync(file, "{");
    expect(() => readLauncherState(file)).toThrow();
    expect(readFileSync(file, "utf8")).toBe("{");
  });

  it("lives in TRONPAY_DATA_DIR, else in .data", () => {
    expect(launcherStateFile({ TRONPAY_DATA_DIR: dir })).toBe(join(dir, "launcher.json"));
    expect(launcherStateFile({})).toBe(resolve(".data", "launcher.json"));
  });
});

describe("launcher config", () => {
  it("runs everything embedded by default", () => {
    const config = loadLauncherConfig({});
    expect(config).toMatchObject({
      dataDir: ".data",
      databaseUrl: "",
      nodeUrl: "",
      devnetBlockMs: 3000,
      devnetSolidLag: 19,
      corePort: 50051,
      pgPort: 0,
      scryptLogN: 14,
    });
  });

  it("takes the environment over the defaults and refuses what is out of range", () => {
    const config = loadLauncherConfig({
      TRONPAY_DATA_DIR: dir,
      TRONPAY_DEVNET_BLOCK_MS: "200",
      TRONPAY_CORE_PORT: "0",
      TRONPAY_SIGNER_SCRYPT_LOG_N: "4",
    });
    expect(config).toMatchObject({ dataDir: dir, devnetBlockMs: 200, corePort: 0, scryptLogN: 4 });
    expect(() => loadLauncherConfig({ TRONPAY_DEVNET_BLOCK_MS: "1" })).toThrow();
    expect(() => loadLauncherConfig({ TRONPAY_SIGNER_SCRYPT_LOG_N: "23" })).toThrow();
  });

  it("puts every part's files under the data directory, made absolute", () => {
    const paths = launcherPaths("rel-data");
    expect(paths.root).toBe(resolve("rel-data"));
    expect(paths.keystore).toBe(join(resolve("rel-data"), "signer", "keystore.age"));
    expect(paths.devnetState).toBe(join(resolve("rel-data"), "devnet", "chain.json"));
    expect(paths.state).toBe(join(resolve("rel-data"), "launcher.json"));
  });
});
