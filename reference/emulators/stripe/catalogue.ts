/** Products and prices: the seeded plans, read-only (the product looks prices up by lookup key). */
import { invalidRequest, resourceMissing } from './errors';
import type { FormObject } from './form';
import { newestFirst, paginate, PAGINATION_PARAMS, type ListEnvelope } from './lists';
import type { Price, Product } from './objects';
import { optionalBoolean, optionalEnum, optionalHash, optionalString, optionalStringList, rejectUnknown } from './params';
import type { StateData } from './store';

export class Catalogue {
  constructor(private readonly state: StateData) {}

  listProducts(query: FormObject): ListEnvelope<Product> {
    rejectUnknown(query, [...PAGINATION_PARAMS, 'active', 'ids', 'created', 'shippable', 'url']);
    const active = optionalBoolean(query, 'active');
    const ids = optionalStringList(query, 'ids');
    const items = newestFirst(this.state.products).filter(
      (product) => (active === undefined || product.active === active) && (!ids || ids.includes(product.id)),
    );
    return paginate(items, query, '/v1/products', 'product');
  }

  getProduct(id: string): Product {
    const product = this.state.products[id];
    if (!product) throw resourceMissing('product', id);
    return product;
  }

  listPrices(query: FormObject): ListEnvelope<Price> {
    rejectUnknown(query, [...PAGINATION_PARAMS, 'active', 'currency', 'lookup_keys', 'product', 'type', 'recurring', 'created']);
    const active = optionalBoolean(query, 'active');
    const currency = optionalString(query, 'currency');
    const lookupKeys = optionalStringList(query, 'lookup_keys');
    if (lookupKeys && lookupKeys.length > 10) {
      throw invalidRequest('Invalid lookup_keys: you may pass at most 10 lookup keys.', { param: 'lookup_keys' });
    }
    const product = optionalString(query, 'product');
    const type = optionalEnum(query, 'type', ['one_time', 'recurring'] as const);
    const recurring = optionalHash(query, 'recurring');
    const interval = recurring ? optionalEnum(recurring, 'interval', ['day', 'week', 'month', 'year'] as const, 'recurring[interval]') : undefined;
    const items = newestFirst(this.state.prices).filter(
      (price) =>
        (active === undefined || price.active === active) &&
        (!currency || price.currency === currency.toLowerCase()) &&
        (!lookupKeys || (price.lookup_key !== null && lookupKeys.includes(price.lookup_key))) &&
        (!product || price.product === product) &&
        (!type || price.type === type) &&
        (!interval || price.recurring?.interval === interval),
    );
    return paginate(items, query, '/v1/prices', 'price');
  }

  getPrice(id: string): Price {
    const price = this.state.prices[id];
    if (!price) throw resourceMissing('price', id);
    return price;
  }
}
