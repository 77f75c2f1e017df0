/** SQL LIKE for unit tests that check the suite's patterns without a database (backslash escapes). */
export function sqlLike(pattern: string, text: string): boolean {
  const literal = (c: string) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) re += literal(pattern[++i]!);
    else if (c === '%') re += '.*';
    else if (c === '_') re += '.';
    else re += literal(c);
  }
  return new RegExp(`^${re}$`, 's').test(text);
}
