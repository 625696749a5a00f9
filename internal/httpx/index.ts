export * from "./healthcheck.ts";
export * from "./http-metrics.ts";
export * from "./observe-requests.ts";
export * from "./readiness.ts";
export * from "./serve.ts";
export * from "./service-app.ts";
