import type { ServiceImpl } from "@connectrpc/connect";
import {
  type Health,
  HealthCheckResponse_ServingStatus as Status,
} from "../../gen/health/v1/health_pb.js";
import { AppError } from "../../shared/errors.js";
import type { HealthMonitor } from "./monitor.js";

/**
 * The standard grpc.health.v1.Health service (probes use it, without credentials): Check and
 * List answer from the monitor's last probe, Watch streams every change until the caller
 * leaves or core stops.
 */
export function createHealthHandlers(monitor: HealthMonitor): ServiceImpl<typeof Health> {
  const statusOf = (service: string) => {
    const serving = monitor.serving(service);
    if (serving === undefined) return Status.SERVICE_UNKNOWN;
    return serving ? Status.SERVING : Status.NOT_SERVING;
  };
  return {
    check(req) {
      const status = statusOf(req.service);
      if (status === Status.SERVICE_UNKNOWN) {
        throw new AppError("request.not_found", "this server has no such service", {
          metadata: { service: req.service },
        });
      }
      return { status };
    },

    list() {
      return {
        statuses: Object.fromEntries(monitor.services().map((s) => [s, { status: statusOf(s) }])),
      };
    },

    async *watch(req, context) {
      const signal = AbortSignal.any([context.signal, monitor.stopped]);
      let changed = false;
      let wake: (() => void) | undefined;
      const unsubscribe = monitor.subscribe(() => {
        changed = true;
        wake?.();
      });
      const onAbort = () => wake?.();
      signal.addEventListener("abort", onAbort);
      try {
        let last: Status | undefined;
        while (!signal.aborted) {
          changed = false;
          const status = statusOf(req.service);
          // An unknown service is SERVICE_UNKNOWN and the stream stays open, as the spec says.
          if (status !== last) {
            last = status;
            yield { status };
          }
          if (!changed && !signal.aborted) {
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = undefined;
          }
        }
      } finally {
        unsubscribe();
        signal.removeEventListener("abort", onAbort);
      }
    },
  };
}
