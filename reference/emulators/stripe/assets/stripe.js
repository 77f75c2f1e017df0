/*
 * Stripe.js stand-in served by the Stripe emulator at /v3. It implements the part of Stripe.js
 * that Embedded Checkout uses (API 2026-03-25.dahlia and later):
 *
 *   const stripe = Stripe('pk_test_...');
 *   const checkout = await stripe.createEmbeddedCheckoutPage({ fetchClientSecret, onComplete });
 *   checkout.mount('#checkout');   // also unmount(), destroy()
 *
 * mount() inserts iframe[name="embedded-checkout"] (title "Embedded checkout") served by the
 * emulator. On completion the frame posts a message; this script accepts it only from the
 * emulator's origin and that iframe, then sends the top window to the return URL (or calls
 * onComplete when the session does not redirect).
 */
/* global __EMULATOR_CONFIG__ */
(function () {
  'use strict';

  var CONFIG = __EMULATOR_CONFIG__;

  if (typeof window.Stripe === 'function' && window.Stripe.emulator === true) return;

  function integrationError(message) {
    var error = new Error(message);
    error.name = 'IntegrationError';
    return error;
  }

  function maskKey(key) {
    var match = /^[a-z]+_(?:test_|live_)?/.exec(key);
    var prefix = match ? match[0] : '';
    var body = key.slice(prefix.length);
    if (body.length <= 8) return prefix + '****';
    return prefix + new Array(body.length - 3).join('*') + body.slice(-4);
  }

  var CLIENT_SECRET = /^cs_(test|live)_[A-Za-z0-9]+_secret_[A-Za-z0-9]+$/;

  // Stripe.js allows one Embedded Checkout at a time; a second one is an integration error.
  var activeCheckout = null;

  function EmbeddedCheckout(publishableKey, onComplete) {
    this._key = publishableKey;
    this._onComplete = onComplete;
    this._clientSecret = null;
    this._iframe = null;
    this._listener = null;
    this._destroyed = false;
  }

  EmbeddedCheckout.prototype.mount = function (target) {
    if (this._destroyed) {
      throw integrationError('This Embedded Checkout has been destroyed. Call createEmbeddedCheckoutPage() again to make a new one.');
    }
    if (this._iframe) {
      throw integrationError('This Embedded Checkout is already mounted. Call unmount() before mounting it again.');
    }
    var container = typeof target === 'string' ? document.querySelector(target) : target;
    if (!container || container.nodeType !== 1) {
      throw integrationError('mount(): no DOM element found for ' + String(target) + '. Pass a CSS selector or an element that is in the page.');
    }
    var fragment =
      'client_secret=' + encodeURIComponent(this._clientSecret) +
      '&key=' + encodeURIComponent(this._key) +
      '&origin=' + encodeURIComponent(window.location.origin);
    var iframe = document.createElement('iframe');
    iframe.name = 'embedded-checkout';
    iframe.title = 'Embedded checkout';
    iframe.setAttribute('allow', 'payment *; clipboard-write');
    iframe.setAttribute('frameborder', '0');
    iframe.setAttribute('scrolling', 'no');
    iframe.style.cssText = 'border:0;width:100%;min-width:320px;height:640px;display:block;overflow:hidden;';
    iframe.src = CONFIG.frameUrl + '#' + fragment;
    this._listener = this._receive.bind(this);
    window.addEventListener('message', this._listener);
    container.appendChild(iframe);
    this._iframe = iframe;
  };

  EmbeddedCheckout.prototype._receive = function (event) {
    if (event.origin !== CONFIG.origin) return;
    if (!this._iframe || event.source !== this._iframe.contentWindow) return;
    var data = event.data;
    if (!data || typeof data !== 'object' || typeof data.type !== 'string') return;
    if (data.type === 'embedded-checkout:resize') {
      if (typeof data.height === 'number' && data.height > 0 && data.height < 10000) {
        this._iframe.style.height = Math.ceil(data.height) + 'px';
      }
      return;
    }
    if (data.type === 'embedded-checkout:complete') {
      if (typeof data.returnUrl === 'string' && /^https?:\/\//i.test(data.returnUrl)) {
        window.location.assign(data.returnUrl);
        return;
      }
      if (typeof this._onComplete === 'function') this._onComplete();
    }
  };

  EmbeddedCheckout.prototype.unmount = function () {
    if (this._listener) window.removeEventListener('message', this._listener);
    this._listener = null;
    if (this._iframe && this._iframe.parentNode) this._iframe.parentNode.removeChild(this._iframe);
    this._iframe = null;
  };

  EmbeddedCheckout.prototype.destroy = function () {
    this.unmount();
    this._destroyed = true;
    if (activeCheckout === this) activeCheckout = null;
  };

  function Stripe(publishableKey, options) {
    if (!(this instanceof Stripe)) return new Stripe(publishableKey, options);
    if (typeof publishableKey !== 'string' || publishableKey === '') {
      throw integrationError('Please call Stripe() with your publishable key. You used an empty string.');
    }
    if (/^(sk|rk)_/.test(publishableKey)) {
      throw integrationError('You should not use your secret key with Stripe.js. Please pass a publishable key instead.');
    }
    if (!/^pk_(test|live)_/.test(publishableKey)) {
      throw integrationError('Invalid value for Stripe(): apiKey should be a publishable key starting with pk_test_ or pk_live_. You specified: ' + maskKey(publishableKey) + '.');
    }
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw integrationError('Invalid value for Stripe(): options should be an object.');
    }
    this._key = publishableKey;
  }

  Stripe.prototype.createEmbeddedCheckoutPage = function (options) {
    var publishableKey = this._key;
    return new Promise(function (resolve, reject) {
      if (!options || typeof options !== 'object') {
        reject(integrationError('createEmbeddedCheckoutPage(): pass an options object with fetchClientSecret.'));
        return;
      }
      if (CONFIG.publishableKeys.indexOf(publishableKey) === -1) {
        reject(integrationError('Invalid API Key provided: ' + maskKey(publishableKey)));
        return;
      }
      var hasFetch = typeof options.fetchClientSecret === 'function';
      var hasSecret = typeof options.clientSecret === 'string';
      if (hasFetch === hasSecret) {
        reject(integrationError('createEmbeddedCheckoutPage(): pass exactly one of fetchClientSecret (a function returning a Promise of the client secret) or clientSecret.'));
        return;
      }
      if (options.onComplete !== undefined && typeof options.onComplete !== 'function') {
        reject(integrationError('createEmbeddedCheckoutPage(): onComplete must be a function.'));
        return;
      }
      if (activeCheckout) {
        reject(integrationError('You cannot have multiple Embedded Checkout objects. Call destroy() on the existing one first.'));
        return;
      }
      var checkout = new EmbeddedCheckout(publishableKey, options.onComplete);
      activeCheckout = checkout;
      Promise.resolve()
        .then(function () {
          return hasFetch ? options.fetchClientSecret() : options.clientSecret;
        })
        .then(function (clientSecret) {
          if (typeof clientSecret !== 'string' || !CLIENT_SECRET.test(clientSecret)) {
            throw integrationError('Invalid client secret: expected the client_secret of a Checkout Session (cs_test_..._secret_...). Check what fetchClientSecret returns.');
          }
          if (/^cs_live_/.test(clientSecret) !== /^pk_live_/.test(publishableKey)) {
            throw integrationError('The client secret and the publishable key belong to different modes (test and live).');
          }
          checkout._clientSecret = clientSecret;
          resolve(checkout);
        })
        .catch(function (error) {
          if (activeCheckout === checkout) activeCheckout = null;
          reject(error);
        });
    });
  };

  Stripe.prototype.initEmbeddedCheckout = function () {
    throw integrationError('initEmbeddedCheckout() was renamed to createEmbeddedCheckoutPage() in API version 2026-03-25.dahlia. Call stripe.createEmbeddedCheckoutPage({ fetchClientSecret }) instead.');
  };

  Stripe.version = 3;
  Stripe.emulator = true;
  window.Stripe = Stripe;
})();
