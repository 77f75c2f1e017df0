import { describe, expect, it } from 'vitest';
import {
  briefRawValue,
  collapseNote,
  costCapText,
  displayBriefValue,
  perMonth,
  planPrice,
  rawValue,
  riskText,
  spendSourceText,
  toNumber,
  upgradeCopy,
  usdFine,
} from './format';
import type { Brief } from './types';

const discordBrief: Brief = {
  intent: 'Run my Discord bot 24/7',
  use_case: 'Discord bot hosting',
  scale: { initial: 1, target: 1, growth_profile: 'flat' },
  regions: ['us-east-1'],
  budget_cap_usd_monthly: 10,
  preferred_provider: 'pro_cloud',
};

describe('brief rows', () => {
  it('renders the contract texts', () => {
    expect(displayBriefValue('scale', discordBrief)).toBe('1→1 · flat');
    expect(displayBriefValue('budget_cap_usd_monthly', discordBrief)).toBe('$10/mo');
    expect(displayBriefValue('regions', discordBrief)).toBe('us-east-1');
    expect(displayBriefValue('intent', discordBrief)).toBe('Run my Discord bot 24/7');
  });

  it('leaves fields the brief does not have yet empty', () => {
    expect(displayBriefValue('scale', { intent: 'x' })).toBeUndefined();
    expect(displayBriefValue('regions', { regions: [] })).toBeUndefined();
    expect(displayBriefValue('budget_cap_usd_monthly', {})).toBeUndefined();
  });

  it('keeps raw values: strings as-is, numbers as text, the rest as JSON', () => {
    expect(rawValue('Run my Discord bot 24/7')).toBe('Run my Discord bot 24/7');
    expect(rawValue(10)).toBe('10');
    expect(rawValue(['us-east-1'])).toBe('["us-east-1"]');
    expect(rawValue({ initial: 1, target: 1, growth_profile: 'flat' })).toBe('{"initial":1,"target":1,"growth_profile":"flat"}');
    expect(rawValue(undefined)).toBeUndefined();
  });

  it('orders scale as written, whatever order the database stored it in', () => {
    const stored = { scale: { target: 1, growth_profile: 'flat', initial: 1 } };
    expect(briefRawValue('scale', stored)).toBe('{"initial":1,"target":1,"growth_profile":"flat"}');
    expect(briefRawValue('regions', discordBrief)).toBe('["us-east-1"]');
    expect(briefRawValue('budget_cap_usd_monthly', discordBrief)).toBe('10');
  });
});

describe('money', () => {
  it('shows the cost-cap line with cents for the run-rate and a whole cap', () => {
    expect(costCapText(5.04, 10)).toBe('$5.04 of $10/mo');
    expect(costCapText(0, 12.5)).toBe('$0.00 of $12.50/mo');
  });

  it('formats monthly amounts and plan prices', () => {
    expect(perMonth(5.04)).toBe('$5.04/mo');
    expect(perMonth(toNumber('5.0400'))).toBe('$5.04/mo');
    expect(planPrice(0)).toBe('$0/mo');
    expect(planPrice(4900)).toBe('$49/mo');
  });

  it('keeps 2 to 4 decimals for the daily share', () => {
    expect(usdFine(0.168)).toBe('0.168');
    expect(usdFine(5.04)).toBe('5.04');
    expect(usdFine(0)).toBe('0.00');
    expect(usdFine(0.12345)).toBe('0.1235');
  });

  it('reads numeric strings and treats garbage as zero', () => {
    expect(toNumber('5.04')).toBe(5.04);
    expect(toNumber(null)).toBe(0);
    expect(toNumber('abc')).toBe(0);
  });
});

describe('plan texts', () => {
  it('names risk and step collapse as the contract words them', () => {
    expect(riskText('low', 12)).toBe('Low risk · 12');
    expect(riskText('med', 45)).toBe('Med risk · 45');
    expect(riskText('high', 80)).toBe('High risk · 80');
    expect(collapseNote(3, 1)).toBe('Merged 3 redundant steps into 1');
  });

  it('words the spend source for people', () => {
    expect(spendSourceText('usage_records')).toBe('usage records');
  });

  it('names the plan and its limit when the server sends no message', () => {
    const limits = { max_node_instances: 1, max_monthly_provisioning_usd: 20 };
    expect(upgradeCopy('max_node_instances', limits)).toBe('Free plan limit reached: 1 instance');
    expect(upgradeCopy('max_monthly_provisioning_usd', limits)).toBe('Free plan limit reached: $20/mo of provisioning');
    expect(upgradeCopy('max_node_instances', { max_node_instances: 50 }, 'pro_cloud')).toBe('Pro Cloud plan limit reached: 50 instances');
  });
});
