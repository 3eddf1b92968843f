import { describeConfig, parseFlags } from "../shared/config.js";
import { createLogger } from "../shared/log.js";
import { devnetConfigSpec, loadDevnetConfig } from "./config.js";
import { startDevnet } from "./devnet.js";

// Starts the devnet from flags and env, prints where it is, saves on SIGINT/SIGTERM.
const config = loadDevnetConfig({ flags: parseFlags(process.argv.slice(2)), env: process.env });
const log = createLogger({ name: "devnet", level: config.logLevel });
log.info({ config: describeConfig(devnetConfigSpec, config) }, "devnet config");
const devnet = await startDevnet(config, log);
process.stdout.write(
  [
    `devnet listening on ${devnet.url}`,
    `USDT (TRC-20) contract: ${devnet.usdtAddress}`,
    `genesis account: ${devnet.genesis.address}`,
    `genesis key file: ${devnet.genesis.keyFile ?? "(from DEVNET_GENESIS_PRIVATE_KEY)"}`,
    `state file: ${config.stateFile ?? "(none; set DEVNET_STATE_FILE to persist)"}`,
    "",
  ].join("\n"),
);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void devnet.stop().then(() => process.exit(0));
  });
}
