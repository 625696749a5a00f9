// Tests pick ports the same way the dev stack does.
export { freePort } from "../../internal/devstack/free-port.ts";
