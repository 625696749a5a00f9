export * from "./trace-context.ts";
export * from "./tracer.ts";
export * from "./create-tracer.ts";
