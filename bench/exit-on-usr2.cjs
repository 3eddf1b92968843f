// Preloaded into a profiled process (bench/profile-core.ts): SIGUSR2 exits at once through
// process.exit, so --cpu-prof writes its profile without waiting for open client sessions.
process.on("SIGUSR2", () => process.exit(0));
