// npm start: the whole system on embedded defaults (see README.md, Quick start).
import { loadLauncherConfig } from "./config.js";
import { type RunningSystem, startSystem } from "./run.js";

/** Runs the system until SIGINT/SIGTERM or until a child dies; returns the exit code. */
export async function main(env: NodeJS.ProcessEnv): Promise<number> {
  const config = loadLauncherConfig(env);
  process.stdout.write(`tronpay: starting (data in ${config.dataDir}) …\n`);
  let system: RunningSystem | undefined;
  let signalled = false;
  const signalled$ = new Promise<string>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.on(signal, () => {
        // A second Ctrl-C while stopping is ignored: stopping in order is what saves the data.
        if (signalled) return;
        signalled = true;
        resolve(signal);
      });
    }
  });
  const starting = startSystem(config);
  try {
    system = await Promise.race([starting, signalled$.then(() => undefined)]);
  } catch (err) {
    process.stderr.write(`tronpay: failed to start: ${message(err)}\n`);
    return 1;
  }
  if (!system) {
    // Interrupted while starting: let the start finish (or fail), then stop it in order, so
    // no child outlives the launcher and the devnet and database are saved.
    process.stdout.write("tronpay: interrupted while starting; stopping …\n");
    await starting.then((s) => s.stop()).catch(() => {});
    return 130;
  }
  process.stdout.write(system.banner);
  const why = await Promise.race([
    signalled$.then((s) => ({ signal: s })),
    system.childExited.then((name) => ({ child: name })),
  ]);
  if ("child" in why) {
    process.stderr.write(`tronpay: ${why.child} exited unexpectedly; see its log. Stopping.\n`);
  } else {
    process.stdout.write(`\ntronpay: ${why.signal}: stopping core, signer, devnet, database …\n`);
  }
  await system.stop();
  process.stdout.write("tronpay: stopped.\n");
  return "child" in why ? 1 : 0;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.env).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`tronpay: ${message(err)}\n`);
      process.exit(1);
    },
  );
}
