import { describe, expect, it } from 'vitest';
import { cardBrand, declineFor, luhnValid, parseExpiry, validateCardForm } from './cards';
import { cardForm as form } from './test-support';

const NOW = new Date('2026-11-25T12:00:00Z');

describe('card checks', () => {
  it('knows Luhn and brands', () => {
    expect(luhnValid('4242424242424242')).toBe(true);
    expect(luhnValid('4242424242424241')).toBe(false);
    expect(cardBrand('4242424242424242')).toBe('visa');
    expect(cardBrand('5555555555554444')).toBe('mastercard');
    expect(cardBrand('378282246310005')).toBe('amex');
  });

  it('reads the expiry forms test suites type', () => {
    expect(parseExpiry('12 / 34')).toEqual({ month: 12, year: 2034 });
    expect(parseExpiry('12/34')).toEqual({ month: 12, year: 2034 });
    expect(parseExpiry('1234')).toEqual({ month: 12, year: 2034 });
    expect(parseExpiry('12 / 2030')).toEqual({ month: 12, year: 2030 });
    expect(parseExpiry('1 / 30')).toEqual({ month: 1, year: 2030 });
    expect(parseExpiry('12')).toBe('incomplete');
    expect(parseExpiry('13 / 30')).toBe('invalid');
    expect(parseExpiry('ab / cd')).toBe('invalid');
  });

  it('accepts a good card with or without spaces', () => {
    expect(validateCardForm(form(), NOW).card).toMatchObject({ brand: 'visa', last4: '4242', expMonth: 12, expYear: 2034 });
    expect(validateCardForm(form({ cardNumber: '4242424242424242', cardExpiry: '1234' }), NOW).errors).toEqual({});
    expect(validateCardForm(form({ cardNumber: '3782 822463 10005', cardCvc: '1234' }), NOW).errors).toEqual({});
  });

  it("answers bad fields with Stripe's messages", () => {
    const { errors, card } = validateCardForm(
      form({ email: 'nope', cardNumber: '4242 4242 4242 4241', cardExpiry: '10 / 26', cardCvc: '12', billingName: ' ', billingPostalCode: '1' }),
      NOW,
    );
    expect(card).toBeUndefined();
    expect(errors).toEqual({
      email: 'Your email address is invalid.',
      cardNumber: 'Your card number is invalid.',
      cardExpiry: "Your card's expiration date is in the past.",
      cardCvc: "Your card's security code is incomplete.",
      billingName: 'Your name is incomplete.',
      billingPostalCode: 'Your ZIP is invalid.',
    });
    expect(validateCardForm(form({ cardNumber: '4242 4242' }), NOW).errors.cardNumber).toBe('Your card number is incomplete.');
    expect(validateCardForm(form({ cardNumber: '' }), NOW).errors.cardNumber).toBe('Your card number is incomplete.');
    expect(validateCardForm(form({ cardNumber: '378282246310005', cardCvc: '123' }), NOW).errors.cardCvc).toBe(
      "Your card's security code is incomplete.",
    );
    expect(validateCardForm(form({ cardExpiry: '11 / 26' }), NOW).errors).toEqual({});
  });

  it('needs a phone number while "save my information" is ticked', () => {
    expect(validateCardForm(form({ saveInfo: true }), NOW).errors).toEqual({ phoneNumber: 'Your phone number is incomplete.' });
    expect(validateCardForm(form({ saveInfo: true, phoneNumber: '(201) 555-0123' }), NOW).errors).toEqual({});
  });

  it('maps the test cards to their outcomes', () => {
    expect(declineFor('4000000000000002')).toMatchObject({ code: 'card_declined', message: 'Your card was declined.' });
    expect(declineFor('4000000000009995')).toMatchObject({ decline_code: 'insufficient_funds' });
    expect(declineFor('4242424242424242')).toBeUndefined();
  });
});
