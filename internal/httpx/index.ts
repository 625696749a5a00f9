export * from "./allowed-methods.ts";
export * from "./healthcheck.ts";
export * from "./http-metrics.ts";
export * from "./origin-form-url.ts";
export * from "./readiness.ts";
export * from "./request-context.ts";
export * from "./serve.ts";
export * from "./service-app.ts";
