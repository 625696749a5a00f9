/** A drill's progress on stderr: one status line rewritten in place on a terminal, lines kept elsewhere. */
export class Progress {
  private lastPlain = 0;
  constructor(private readonly tty: boolean) {}
  /** Rewrites the status line on a terminal; elsewhere prints it every 5 s at most. */
  update(text: string): void {
    if (this.tty) process.stderr.write(`\r\x1b[2K${text}`);
    else if (Date.now() - this.lastPlain >= 5_000) {
      this.lastPlain = Date.now();
      process.stderr.write(`${text}\n`);
    }
  }
  line(text: string): void {
    if (this.tty) process.stderr.write("\r\x1b[2K");
    process.stderr.write(`${text}\n`);
    this.lastPlain = 0;
  }
}
