/**
 * A comma list the server writes into the page's HTML shell as `<meta name="…" content="a,b">`
 * (the stack's variants, the self-test's page faults), read once, on first use, so it is known
 * before the first render. No tag means an empty list.
 */
export type ShellList<T extends string> = {
  has(name: T): boolean;
  /** For tests: the page as if the shell named these. */
  setForTests(names: readonly T[]): void;
};

export function shellList<T extends string>(metaName: string): ShellList<T> {
  let active: Set<string> | null = null;
  return {
    has(name) {
      active ??= fromDocument(metaName);
      return active.has(name);
    },
    setForTests(names) {
      active = new Set(names);
    },
  };
}

function fromDocument(metaName: string): Set<string> {
  if (typeof document === 'undefined') return new Set();
  const content = document.querySelector(`meta[name="${metaName}"]`)?.getAttribute('content') ?? '';
  return new Set(
    content
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  );
}
