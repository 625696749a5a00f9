export { startFaultProxy } from "./fault-proxy.ts";
export type { FaultMode, FaultProxy, FaultProxyOptions } from "./fault-proxy.ts";
