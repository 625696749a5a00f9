/** Answers `/readyz`: the service's own check, overridden once the service starts draining. */
export class Readiness {
  #draining = false;

  constructor(private readonly check: () => boolean | Promise<boolean> = () => true) {}

  /**
   * From now on `/readyz` answers 503, so load balancers stop sending new requests, and every
   * answer carries `Connection: close` (see requestContext), so keep-alive clients reconnect.
   */
  startDraining(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  async isReady(): Promise<boolean> {
    if (this.#draining) return false;
    try {
      return await this.check();
    } catch {
      return false;
    }
  }
}
