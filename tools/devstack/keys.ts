/**
 * Single-key commands on a terminal: raw mode, one callback per key. Ctrl-C and Ctrl-D arrive as
 * keys in raw mode (no SIGINT), and are reported as "q". Returns a function restoring the terminal.
 * Without a terminal nothing is read and the returned function does nothing.
 */
export function listenForKeys(input: NodeJS.ReadStream, onKey: (key: string) => void): () => void {
  if (!input.isTTY) return () => {};
  input.setRawMode(true);
  input.setEncoding("utf8");
  const onData = (data: string) => {
    for (const char of data) {
      if (char === "\u0003" || char === "\u0004") onKey("q");
      else onKey(char.toLowerCase());
    }
  };
  input.on("data", onData);
  input.resume();
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    input.off("data", onData);
    input.setRawMode(false);
    input.pause();
  };
}
