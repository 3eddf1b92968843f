import { createProgram, errorLine } from "./program.js";

// The `tronpay` command (bin/tronpay.js loads this file). Long-running commands (signer) keep
// the process alive; clients to core unref their idle HTTP/2 sessions, so others just end.
createProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(errorLine(err));
    process.exit(1);
  });
