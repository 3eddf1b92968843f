import type { Interceptor } from "@connectrpc/connect";
import { checkRequest } from "../validate/request.js";

/**
 * Checks every request against its descriptor (validate/request.ts: text limits, NUL
 * characters, enum values) before the handler runs. Inside authentication, so an
 * unauthenticated caller learns nothing about the request's shape.
 */
export const requestCheckInterceptor: Interceptor = (next) => async (req) => {
  if (!req.stream) checkRequest(req.method.input, req.message);
  return next(req);
};
