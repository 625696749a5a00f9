/** A target a bench run is held to, and how the verdicts print: shared by bench and bench:scale. */
export interface Check {
  what: string;
  actual: string;
  ok: boolean;
}

export function checksText(checks: readonly Check[]): string {
  return checks.map((c) => `${c.ok ? "ok  " : "FAIL"}  ${c.what}: ${c.actual}`).join("\n");
}
