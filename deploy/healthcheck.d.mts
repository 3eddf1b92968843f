// Types for healthcheck.mjs (plain JavaScript so that it runs in the image as it is).
export function checkGrpc(target: string, timeoutMs?: number, service?: string): Promise<boolean>;
export function checkRequestFrame(service: string): Buffer;
export function servingStatus(frame: Uint8Array): number | undefined;
export function checkHttp(url: string, timeoutMs?: number): Promise<boolean>;
export function checkSocket(path: string, timeoutMs?: number): Promise<boolean>;
