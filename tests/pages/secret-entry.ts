/**
 * Typing a generated password with `locator.fill` would put it in the report (`Fill "<value>"` step
 * titles), in the trace's action parameters and in its DOM snapshots. Instead the value reaches the
 * page through a binding, and is entered and submitted in one browser-side action: the action's
 * before-snapshot precedes the value, and by its after-snapshot the field is gone (the form moved
 * on) or, with `clearAfterSubmit`, emptied once the submit handler has read it.
 */
import type { Locator, Page } from '@playwright/test';

const BINDING = '__e2eSecret';
const pending = new WeakMap<Page, Map<string, string>>();

async function handOver(page: Page, secret: string): Promise<string> {
  let secrets = pending.get(page);
  if (!secrets) {
    secrets = new Map();
    pending.set(page, secrets);
    const own = secrets;
    await page.exposeFunction(BINDING, (key: string) => {
      const value = own.get(key) ?? '';
      own.delete(key);
      return value;
    });
  }
  const key = `k${Math.random().toString(36).slice(2)}`;
  secrets.set(key, secret);
  return key;
}

export async function enterSecretAndSubmit(
  page: Page,
  input: Locator,
  submitTestId: string,
  secret: string,
  options: { clearAfterSubmit?: boolean } = {},
): Promise<void> {
  await input.waitFor();
  const key = await handOver(page, secret);
  await input.evaluate(
    async (element, { key, binding, submitTestId, clearAfterSubmit }) => {
      const field = element as HTMLInputElement;
      const fetchSecret = (window as unknown as Record<string, (k: string) => Promise<string>>)[binding]!;
      // React tracks the value through the native setter; set it the way typing does.
      const valueProperty = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!;
      const setValue = (value: string) => valueProperty.set!.call(field, value);
      setValue(await fetchSecret(key));
      field.dispatchEvent(new Event('input', { bubbles: true }));
      document.querySelector<HTMLButtonElement>(`[data-testid="${submitTestId}"]`)?.click();
      if (clearAfterSubmit && field.isConnected) {
        setValue('');
        field.dispatchEvent(new Event('input', { bubbles: true }));
      }
    },
    { key, binding: BINDING, submitTestId, clearAfterSubmit: options.clearAfterSubmit ?? false },
  );
}
