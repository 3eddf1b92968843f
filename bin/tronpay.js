#!/usr/bin/env node
// The tronpay command. Runs the TypeScript sources through tsx's loader, so the CLI works
// straight from a checkout after `npm ci`.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
