import { describe, expect, it } from 'vitest';
import { agree, costCapText, costLinesProblem, figureOf, shownUsd, usdAmountsIn } from './money';

describe('figures as shown and as answered', () => {
  it('reads the dollar amounts of a text with their decimals', () => {
    expect(usdAmountsIn('us-east-1 vc2-1c-1gb $5.04/mo')).toEqual([{ usd: 5.04, decimals: 2 }]);
    expect(shownUsd('$0.168')).toEqual({ usd: 0.168, decimals: 3 });
    expect(shownUsd('$1,204.50/mo')).toEqual({ usd: 1204.5, decimals: 2 });
    expect(shownUsd('$5.04 of $10/mo')).toBeNull();
    expect(shownUsd('—')).toBeNull();
    expect(shownUsd(null)).toBeNull();
  });

  it('reads an answered number or attribute with the decimals of its spelling', () => {
    expect(figureOf(0.1626)).toEqual({ usd: 0.1626, decimals: 4 });
    expect(figureOf('5.04')).toEqual({ usd: 5.04, decimals: 2 });
    expect(figureOf(10)).toEqual({ usd: 10, decimals: 0 });
    expect(figureOf('')).toBeNull();
    expect(figureOf(null)).toBeNull();
    expect(figureOf('abc')).toBeNull();
  });

  it('agrees at the precision of the coarser figure, and no further', () => {
    const exact = { usd: 0.168, decimals: 6 };
    expect(agree({ usd: 0.17, decimals: 2 }, exact)).toBe(true);
    expect(agree({ usd: 0.168, decimals: 3 }, exact)).toBe(true);
    expect(agree({ usd: 0.1626, decimals: 4 }, exact)).toBe(false);
    expect(agree({ usd: 0.01, decimals: 2 }, exact)).toBe(false);
    expect(agree({ usd: 5.04, decimals: 2 }, { usd: 5.040000000000001, decimals: 6 })).toBe(true);
  });
});

describe('the cost-cap text and the cost lines', () => {
  it('writes the cost-cap bar as the contract does', () => {
    expect(costCapText(5.04, 10)).toBe('$5.04 of $10/mo');
    expect(costCapText(0, 12.5)).toBe('$0.00 of $12.50/mo');
  });

  it('accepts lines that add up to the total, half a cent per line aside', () => {
    expect(costLinesProblem(['us-east-1 vc2-1c-1gb $5.04/mo'], '$5.04/mo')).toBeNull();
    expect(costLinesProblem(['a ×2 $10.08/mo', 'b $12.96/mo', 'c $0.01/mo'], '$23.04/mo')).toBeNull();
  });

  it('names lines that do not add up, and lines or totals without an amount', () => {
    expect(costLinesProblem(['us-east-1 vc2-1c-1gb $5.11/mo'], '$5.04/mo')).toMatch(/add up to \$5\.11 .* the total says "\$5\.04\/mo"/);
    expect(costLinesProblem(['us-east-1 vc2-1c-1gb'], '$5.04/mo')).toMatch(/without an amount/);
    expect(costLinesProblem([], '$5.04/mo')).toMatch(/no cost line/);
    expect(costLinesProblem(['x $1/mo'], 'free')).toMatch(/no single dollar amount/);
  });
});
