import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { ServerReflection as ServerReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1Alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { createReflector, type ReflectionQuestion, type Reflector } from "./reflector.js";

/**
 * Registers gRPC server reflection (v1, and v1alpha for older tools) describing every service
 * registered on `router` so far and reflection itself: register it last. Its bidi stream
 * needs HTTP/2, which core's server speaks (h2c).
 */
export function registerReflection(router: ConnectRouter): void {
  const services = new Map<string, DescService>();
  for (const handler of router.handlers) services.set(handler.service.typeName, handler.service);
  services.set(ServerReflectionV1.typeName, ServerReflectionV1);
  services.set(ServerReflectionV1Alpha.typeName, ServerReflectionV1Alpha);
  const reflector = createReflector([...services.values()]);
  router.service(ServerReflectionV1, {
    serverReflectionInfo: (requests) => answerAll(reflector, requests),
  });
  router.service(ServerReflectionV1Alpha, {
    serverReflectionInfo: (requests) => answerAll(reflector, requests),
  });
}

/** One answer per request, in order; files already sent on this stream are not sent again. */
async function* answerAll<R extends { host: string; messageRequest: ReflectionQuestion }>(
  reflector: Reflector,
  requests: AsyncIterable<R>,
) {
  const sent = new Set<string>();
  for await (const request of requests) {
    yield {
      validHost: request.host,
      originalRequest: request,
      messageResponse: reflector.answer(request.messageRequest, sent),
    };
  }
}
