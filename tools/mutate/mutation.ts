/** One change to a file: `find` must occur exactly once in it, and becomes `replace`. */
export interface Edit {
  find: string;
  replace: string;
}

/**
 * A deliberate regression: a small change to one source file that breaks one behaviour, and the
 * test files that claim to catch it (at least one of their tests must fail).
 */
export interface Mutation {
  /** Short and stable: `--only` takes it. */
  id: string;
  /** The behaviour broken, in a few words. */
  breaks: string;
  /** Repository-relative path of the mutated file. */
  file: string;
  find: string;
  replace: string;
  /** Further edits to the same file, for a break that one line cannot make. */
  also?: Edit[];
  /** Repository-relative test files that claim to catch it. */
  tests: string[];
}

export function editsOf(mutation: Mutation): Edit[] {
  return [{ find: mutation.find, replace: mutation.replace }, ...(mutation.also ?? [])];
}

/** How often `snippet` occurs in `source` (non-overlapping). */
export function occurrences(source: string, snippet: string): number {
  return snippet === "" ? 0 : source.split(snippet).length - 1;
}

/** `source` with every edit of `mutation` made; throws naming the edit that does not occur exactly once. */
export function applyMutation(source: string, mutation: Mutation): string {
  let mutated = source;
  for (const { find, replace } of editsOf(mutation)) {
    const count = occurrences(mutated, find);
    if (count !== 1) throw new Error(`${mutation.id}: ${JSON.stringify(find)} occurs ${count} times in ${mutation.file}, expected once`);
    mutated = mutated.replace(find, () => replace);
  }
  return mutated;
}
