/**
 * Card form validation with Stripe Checkout's messages, and the test-mode outcome of each test
 * card number (docs.stripe.com/testing). The checkout page repeats these checks in the browser
 * for instant feedback; this module is the authority.
 */

export type CardField = 'email' | 'cardNumber' | 'cardExpiry' | 'cardCvc' | 'billingName' | 'billingPostalCode' | 'phoneNumber';

export interface CardForm {
  email: string;
  cardNumber: string;
  cardExpiry: string;
  cardCvc: string;
  billingName: string;
  billingCountry: string;
  billingPostalCode: string;
  saveInfo: boolean;
  phoneNumber: string;
}

export interface ValidCard {
  number: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
}

export type FieldErrors = Partial<Record<CardField, string>>;

export function cardBrand(digits: string): string {
  if (/^3[47]/.test(digits)) return 'amex';
  if (/^(5[1-5]|2[2-7])/.test(digits)) return 'mastercard';
  if (/^(6011|65|64[4-9])/.test(digits)) return 'discover';
  if (/^3(0[0-5]|[68])/.test(digits)) return 'diners';
  if (/^35/.test(digits)) return 'jcb';
  if (/^62/.test(digits)) return 'unionpay';
  if (/^4/.test(digits)) return 'visa';
  return 'unknown';
}

function cardLength(brand: string): number {
  if (brand === 'amex') return 15;
  if (brand === 'diners') return 14;
  return 16;
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** "12 / 34", "12/34", "1234", "12 / 2034" → month and four-digit year. */
export function parseExpiry(raw: string): { month: number; year: number } | 'incomplete' | 'invalid' {
  const trimmed = raw.trim();
  let month: string;
  let year: string;
  const split = /^(\d{1,2})\s*\/\s*(\d{2}|\d{4})$/.exec(trimmed);
  if (split) {
    month = split[1] ?? '';
    year = split[2] ?? '';
  } else {
    const digits = trimmed.replace(/[\s/]/g, '');
    if (!/^\d*$/.test(digits)) return 'invalid';
    if (digits.length !== 4 && digits.length !== 6) return 'incomplete';
    month = digits.slice(0, 2);
    year = digits.slice(2);
  }
  const monthNumber = Number(month);
  if (monthNumber < 1 || monthNumber > 12) return 'invalid';
  const yearNumber = year.length === 2 ? 2000 + Number(year) : Number(year);
  return { month: monthNumber, year: yearNumber };
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function validateCardForm(form: CardForm, now: Date = new Date()): { card?: ValidCard; errors: FieldErrors } {
  const errors: FieldErrors = {};
  if (form.email.trim() === '') errors.email = 'Your email is incomplete.';
  else if (!EMAIL.test(form.email.trim())) errors.email = 'Your email address is invalid.';

  const digits = form.cardNumber.replace(/[\s-]/g, '');
  const brand = cardBrand(digits);
  if (digits === '') errors.cardNumber = 'Your card number is incomplete.';
  else if (!/^\d+$/.test(digits)) errors.cardNumber = 'Your card number is invalid.';
  else if (digits.length < cardLength(brand)) errors.cardNumber = 'Your card number is incomplete.';
  else if (digits.length > 19 || !luhnValid(digits)) errors.cardNumber = 'Your card number is invalid.';

  const expiry = parseExpiry(form.cardExpiry);
  if (expiry === 'incomplete') errors.cardExpiry = "Your card's expiration date is incomplete.";
  else if (expiry === 'invalid') errors.cardExpiry = "Your card's expiration date is invalid.";
  else {
    const currentYear = now.getUTCFullYear();
    const currentMonth = now.getUTCMonth() + 1;
    if (expiry.year < currentYear || (expiry.year === currentYear && expiry.month < currentMonth)) {
      errors.cardExpiry = "Your card's expiration date is in the past.";
    } else if (expiry.year > currentYear + 50) {
      errors.cardExpiry = "Your card's expiration year is invalid.";
    }
  }

  const cvc = form.cardCvc.trim();
  const cvcLength = brand === 'amex' ? 4 : 3;
  if (!/^\d*$/.test(cvc)) errors.cardCvc = "Your card's security code is invalid.";
  else if (cvc.length < cvcLength) errors.cardCvc = "Your card's security code is incomplete.";
  else if (cvc.length > 4) errors.cardCvc = "Your card's security code is invalid.";

  if (form.billingName.trim() === '') errors.billingName = 'Your name is incomplete.';

  const postal = form.billingPostalCode.trim();
  if (postal === '') errors.billingPostalCode = 'Your ZIP is incomplete.';
  else if (form.billingCountry === 'US' && !/^\d{5}(-?\d{4})?$/.test(postal)) errors.billingPostalCode = 'Your ZIP is invalid.';

  // Link's "save my information" needs a phone number, so a test that leaves it ticked fails.
  if (form.saveInfo && form.phoneNumber.replace(/\D/g, '').length < 10) {
    errors.phoneNumber = 'Your phone number is incomplete.';
  }

  if (Object.keys(errors).length > 0 || typeof expiry !== 'object') return { errors };
  return {
    errors,
    card: { number: digits, brand, last4: digits.slice(-4), expMonth: expiry.month, expYear: expiry.year },
  };
}

export interface Decline {
  code: string;
  decline_code?: string;
  message: string;
}

/** Stripe's test card numbers that fail; every other valid number succeeds. */
const DECLINES: Record<string, Decline> = {
  '4000000000000002': { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' },
  '4000000000009995': {
    code: 'card_declined',
    decline_code: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
  },
  '4000000000009987': { code: 'card_declined', decline_code: 'lost_card', message: 'Your card was declined.' },
  '4000000000009979': { code: 'card_declined', decline_code: 'stolen_card', message: 'Your card was declined.' },
  '4000000000000069': { code: 'expired_card', message: 'Your card has expired.' },
  '4000000000000127': { code: 'incorrect_cvc', message: "Your card's security code is incorrect." },
  '4000000000000119': {
    code: 'processing_error',
    message: 'An error occurred while processing your card. Try again in a little bit.',
  },
};

export function declineFor(cardNumber: string): Decline | undefined {
  return DECLINES[cardNumber];
}
