import { describe, expect, it } from 'vitest';
import { FormError, parseForm } from './form';
import { optionalList, optionalMetadata, optionalStringList } from './params';

const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('parseForm', () => {
  it('nests bracket keys the way stripe-node encodes them', () => {
    const params = parseForm(
      'mode=subscription&line_items[0][price]=price_a&line_items[0][quantity]=1&line_items[1][price]=price_b' +
        '&metadata[plan]=free&metadata[note]=a+b%26c&expand[0]=subscription&expand[1]=customer',
    );
    expect(plain(params)).toEqual({
      mode: 'subscription',
      line_items: { 0: { price: 'price_a', quantity: '1' }, 1: { price: 'price_b' } },
      metadata: { plan: 'free', note: 'a b&c' },
      expand: { 0: 'subscription', 1: 'customer' },
    });
    expect(optionalStringList(params, 'expand')).toEqual(['subscription', 'customer']);
    expect(plain(optionalList(params, 'line_items'))).toEqual([{ price: 'price_a', quantity: '1' }, { price: 'price_b' }]);
  });

  it('builds arrays from [] and groups [][key] pairs into elements', () => {
    expect(plain(parseForm('expand[]=a&expand[]=b'))).toEqual({ expand: ['a', 'b'] });
    expect(plain(parseForm('items[][price]=p1&items[][quantity]=1&items[][price]=p2'))).toEqual({
      items: [{ price: 'p1', quantity: '1' }, { price: 'p2' }],
    });
  });

  it('orders indexed lists by index, not by arrival', () => {
    const params = parseForm('lookup_keys[1]=b&lookup_keys[0]=a&lookup_keys[10]=c');
    expect(optionalStringList(params, 'lookup_keys')).toEqual(['a', 'b', 'c']);
  });

  it('keeps metadata with numeric keys a hash', () => {
    expect(optionalMetadata(parseForm('metadata[0]=zero&metadata[x]=y'))).toEqual({ 0: 'zero', x: 'y' });
  });

  it('treats __proto__ as plain data', () => {
    const params = parseForm('metadata[__proto__][polluted]=yes');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(params.metadata as object)).toEqual(['__proto__']);
  });

  it('rejects malformed names, mixed shapes and bad encodings', () => {
    expect(() => parseForm('a[b=1')).toThrow(FormError);
    expect(() => parseForm('[a]=1')).toThrow(FormError);
    expect(() => parseForm('a=1&a[b]=2')).toThrow(FormError);
    expect(() => parseForm('a[b]=1&a=2')).toThrow(FormError);
    expect(() => parseForm('a[]=1&a[0]=2')).toThrow(FormError);
    expect(() => parseForm('a=%E0%A4%A')).toThrow(FormError);
    expect(() => parseForm(`${'a'.repeat(10)}${'[x]'.repeat(12)}=1`)).toThrow(/nested too deeply/);
  });

  it('accepts empty values and keys without a value', () => {
    expect(plain(parseForm('metadata=&flag&x='))).toEqual({ metadata: '', flag: '', x: '' });
    expect(plain(parseForm(''))).toEqual({});
  });
});
