import pino, { type Logger } from "pino";

export type { Logger } from "pino";

/**
 * Paths pino replaces with "[redacted]" in every log line. Secrets are redacted by path so
 * that a careless `log.info({ req })` cannot print them.
 */
export const REDACT_PATHS = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "headers.cookie",
  "*.headers.cookie",
  "password",
  "*.password",
  "passphrase",
  "*.passphrase",
  "privateKey",
  "*.privateKey",
  "mnemonic",
  "*.mnemonic",
  "seed",
  "*.seed",
  "secret",
  "*.secret",
  "apiKey",
  "*.apiKey",
  "token",
  "*.token",
  "databaseUrl",
  "*.databaseUrl",
];

export interface LogOptions {
  /** Process name, e.g. "core". */
  name: string;
  level?: string;
  /** Where to write; default stdout. Tests pass a stream to inspect lines. */
  destination?: pino.DestinationStream;
}

/** Creates the process logger: JSON lines, ISO time, secrets redacted by path. */
export function createLogger(options: LogOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? process.env.LOG_LEVEL ?? "info",
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      base: { pid: process.pid },
    },
    options.destination,
  );
}
