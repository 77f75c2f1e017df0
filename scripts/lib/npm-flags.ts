/**
 * `npm run rollback --older-than 2h` (without the `--` separator) hands the flag to npm, which
 * turns it into npm_config_older_than and leaves the value as a bare argument. This puts such
 * flags back into argv so both spellings work; anything ambiguous is left for the parser to refuse.
 */
export function withNpmConfigFlags(argv: string[], env: Record<string, string | undefined>, flags: string[]): string[] {
  const rebuilt: string[] = [];
  const positionals = argv.filter((a) => !a.startsWith('--'));
  const valueless: string[] = [];
  for (const flag of flags) {
    const value = env[`npm_config_${flag.replace(/-/g, '_')}`];
    if (value === undefined || value === '' || argv.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`))) continue;
    if (value === 'true') valueless.push(flag);
    else rebuilt.push(`--${flag}=${value}`);
  }
  // npm keeps the values of space-separated flags as positionals; pair them only when unambiguous.
  const booleanFlags = new Set(['dry-run', 'json', 'help']);
  const needValues = valueless.filter((f) => !booleanFlags.has(f));
  for (const flag of valueless.filter((f) => booleanFlags.has(f))) rebuilt.push(`--${flag}`);
  if (needValues.length === 1 && positionals.length === 1) {
    return [...argv.filter((a) => a !== positionals[0]), ...rebuilt, `--${needValues[0]}=${positionals[0]}`];
  }
  return [...argv, ...rebuilt, ...needValues.map((f) => `--${f}`)];
}
