export { startFaultProxy } from "./faultProxy.ts";
export type { FaultMode, FaultProxy, FaultProxyOptions } from "./faultProxy.ts";
