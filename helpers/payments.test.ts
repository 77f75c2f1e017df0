import { describe, expect, it } from 'vitest';
import { parseConfig } from './config';
import { createStripe, forgedCheckoutCompletedEvent } from './payments';

describe('forgedCheckoutCompletedEvent', () => {
  const stripe = createStripe(parseConfig({}));

  it('is well formed but fails verification with the real signing secret', () => {
    const forged = forgedCheckoutCompletedEvent(stripe, { id: 'cs_test_123', accountId: 'acc-1' });
    expect(forged.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}/);
    expect(JSON.parse(forged.payload)).toMatchObject({ type: 'checkout.session.completed', data: { object: { id: 'cs_test_123' } } });
    expect(() => stripe.webhooks.constructEvent(forged.payload, forged.signature, 'whsec_m1_reference')).toThrow(/signature/i);
  });
});
