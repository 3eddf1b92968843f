import type { Command } from "commander";
import { runEdge } from "../edge/main.js";

/** `tronpay edge`: run the edge (REST, OpenAPI, docs and RPC pass-through to core). */
export function registerEdgeCommands(program: Command): void {
  program
    .command("edge")
    .description("run the edge: JSON/REST and RPC pass-through to core, /openapi.json, /docs")
    .allowUnknownOption()
    .helpOption("-h, --help")
    .action(async (_opts, cmd: Command) => {
      const { stop } = await runEdge(cmd.args, process.env);
      // Resolve only once stopped: the program exits when its action resolves.
      await new Promise<void>((resolve) => {
        const shutdown = () => void stop().then(resolve);
        process.once("SIGINT", shutdown);
        process.once("SIGTERM", shutdown);
      });
    });
}
