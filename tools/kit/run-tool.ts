import { describeError } from "../../internal/logging/describe-error.ts";
import { UsageError } from "./args.ts";

export interface Tool<O extends { help: boolean }> {
  /** Prefix of the tool's messages on stderr (`drill`, `drill:cluster`). */
  name: string;
  usage: string;
  parse(argv: readonly string[]): O;
  /** Runs until done or `signal` aborts (Ctrl-C, SIGTERM); resolves with the exit code. */
  run(options: O, signal: AbortSignal): Promise<number>;
}

/**
 * The one `main` of the drills: parse the options (a UsageError prints the usage, exit 2), `--help`,
 * SIGINT/SIGTERM abort the run (exit 130), any other failure is one line with its cause chain (exit 1).
 */
export async function runTool<O extends { help: boolean }>(tool: Tool<O>, argv = process.argv.slice(2)): Promise<never> {
  let options: O;
  try {
    options = tool.parse(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${tool.name}: ${error.message}\n\n${tool.usage}`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(tool.usage);
    process.exit(0);
  }
  const stop = new AbortController();
  for (const name of ["SIGINT", "SIGTERM"] as const) process.on(name, () => stop.abort(name));
  try {
    process.exit(await tool.run(options, stop.signal));
  } catch (error) {
    if (stop.signal.aborted) {
      process.stderr.write(`\n${tool.name}: interrupted\n`);
      process.exit(130);
    }
    process.stderr.write(`\n${tool.name}: ${describeError(error)}\n`);
    process.exit(1);
  }
}
