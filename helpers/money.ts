/**
 * Money figures as a person reads them and as the machine answers them. A page prints "$5.04/mo"
 * or "$0.168"; the API answers 5.04 or 0.1626. Two figures agree when they are equal at the
 * precision the coarser one is given with: "$0.17" agrees with 0.168, "$0.01" does not, and 0.1626
 * (four places) does not agree with 0.168.
 */

/** A figure and the number of decimals it was given with. */
export type Figure = { usd: number; decimals: number };

/** Below this, a difference is float noise, whatever the decimals. */
const NOISE = 1e-6;

/** Every "$…" amount in a text, in order ("us-east-1 vc2-1c-1gb $5.04/mo" → [5.04]). */
export function usdAmountsIn(text: string): Figure[] {
  return [...text.replace(/,/g, '').matchAll(/\$\s?(\d+(?:\.(\d+))?)/g)].map((m) => ({ usd: Number(m[1]), decimals: m[2]?.length ?? 0 }));
}

/** The one "$…" amount of a text, or null when it holds none or several. */
export function shownUsd(text: string | null | undefined): Figure | null {
  const amounts = usdAmountsIn(text ?? '');
  return amounts.length === 1 ? amounts[0]! : null;
}

/** A number as the API or an attribute gives it: its decimals are those of its shortest spelling. */
export function figureOf(value: number | string | null | undefined): Figure | null {
  const usd = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isFinite(usd)) return null;
  const spelled = typeof value === 'string' ? value.trim() : String(value);
  const decimals = /e/i.test(spelled) ? 6 : (spelled.split('.')[1]?.length ?? 0);
  return { usd, decimals: Math.min(decimals, 6) };
}

/** Half a unit of a figure's last decimal: how far the exact value may lie from what it shows. */
function halfUnit(figure: Figure): number {
  return Math.max(0.5 * 10 ** -figure.decimals, NOISE);
}

/** Equal at the precision of the coarser of the two. */
export function agree(a: Figure, b: Figure): boolean {
  return Math.abs(a.usd - b.usd) <= Math.max(halfUnit(a), halfUnit(b)) + 1e-9;
}

/** A figure as it was given; a computed one (six places) without its trailing zeros. */
export function describeFigure(figure: Figure | null): string {
  if (!figure) return 'nothing';
  return figure.decimals >= 6 ? String(Number(figure.usd.toFixed(6))) : figure.usd.toFixed(figure.decimals);
}

/** "$10" for whole dollars, "$10.50" otherwise: how the runbook writes a budget. */
export function usdCompact(usd: number): string {
  return Number.isInteger(usd) ? `$${usd}` : `$${usd.toFixed(2)}`;
}

/** The Brief Card's cost-cap bar as CONTRACT 3 writes it: "$5.04 of $10/mo". */
export function costCapText(runRateUsd: number, capUsd: number): string {
  return `$${runRateUsd.toFixed(2)} of ${usdCompact(capUsd)}/mo`;
}

/**
 * RUNBOOK step 3: the plan's cost lines, as printed, must add up to the printed total. Each line
 * is rounded to the cent on its own, so the sum may stray half a cent per line; no more.
 */
export function costLinesProblem(lineTexts: string[], totalText: string): string | null {
  const total = shownUsd(totalText);
  if (!total) return `the total "${totalText}" shows no single dollar amount`;
  if (lineTexts.length === 0) return 'the plan shows no cost line';
  const amounts = lineTexts.map((text) => usdAmountsIn(text).at(-1) ?? null);
  const unreadable = lineTexts.filter((_, i) => amounts[i] === null);
  if (unreadable.length > 0) return `cost lines without an amount: ${unreadable.map((t) => `"${t}"`).join(', ')}`;
  const sum = amounts.reduce((s, a) => s + a!.usd, 0);
  const slack = lineTexts.length * 0.005 + 1e-9;
  return Math.abs(sum - total.usd) <= slack
    ? null
    : `the cost lines add up to $${sum.toFixed(2)} (${lineTexts.map((t) => `"${t}"`).join(' + ')}), the total says "${totalText}"`;
}
