/*
 * The checkout form inside the emulator's iframe (Embedded Checkout; no hosted page is modelled).
 * It checks the fields like Stripe Checkout does, then confirms through the emulator; the
 * server repeats every check and decides the test-card outcome.
 */
/* global URLSearchParams, ResizeObserver */
(function () {
  'use strict';

  var FIELDS = ['email', 'cardNumber', 'cardExpiry', 'cardCvc', 'billingName', 'billingPostalCode', 'phoneNumber'];
  var fragment = new URLSearchParams(window.location.hash.slice(1));
  var clientSecret = fragment.get('client_secret') || '';
  var sessionId = clientSecret.split('_secret_')[0];
  var publishableKey = fragment.get('key') || '';
  var parentOrigin = fragment.get('origin') || '';
  var embedded = window.parent !== window;

  var session = null;
  var submitting = false;

  function $(id) {
    return document.getElementById(id);
  }

  function show(id, visible) {
    $(id).hidden = !visible;
  }

  function notifyParent(message) {
    if (!embedded || !/^https?:\/\//.test(parentOrigin)) return;
    window.parent.postMessage(message, parentOrigin);
  }

  function reportHeight() {
    notifyParent({ type: 'embedded-checkout:resize', height: document.documentElement.scrollHeight });
  }

  if (typeof ResizeObserver === 'function') new ResizeObserver(reportHeight).observe(document.body);

  function money(amount, currency) {
    try {
      return new Intl.NumberFormat('en-US', { style: 'currency', currency: (currency || 'usd').toUpperCase() }).format(amount / 100);
    } catch {
      return (amount / 100).toFixed(2) + ' ' + String(currency).toUpperCase();
    }
  }

  function intervalText(item) {
    if (!item.interval) return '';
    return item.interval_count && item.interval_count > 1 ? 'every ' + item.interval_count + ' ' + item.interval + 's' : 'per ' + item.interval;
  }

  function unavailable(title, message) {
    show('loading', false);
    show('checkout', false);
    $('unavailable-title').textContent = title;
    $('unavailable-message').textContent = message;
    show('unavailable', true);
  }

  function completed(title, message) {
    show('loading', false);
    show('checkout', false);
    $('complete-title').textContent = title;
    $('complete-message').textContent = message;
    show('complete', true);
  }

  function render(data) {
    session = data;
    show('loading', false);
    if (data.status === 'complete') {
      completed('This checkout is complete', 'This Checkout Session has already been completed.');
      return;
    }
    if (data.status === 'expired') {
      unavailable('This checkout has expired', 'This Checkout Session has expired. Go back and start again.');
      return;
    }
    var first = data.line_items[0];
    $('ProductSummary-name').textContent = first ? 'Subscribe to ' + first.name : '';
    $('ProductSummary-totalAmount').textContent = money(data.amount_total, data.currency);
    $('ProductSummary-interval').textContent = first && first.interval ? ' ' + intervalText(first) : '';
    var lines = $('ProductSummary-lines');
    data.line_items.forEach(function (item) {
      var li = document.createElement('li');
      var name = document.createElement('span');
      name.textContent = item.name + (item.quantity > 1 ? ' × ' + item.quantity : '');
      var amount = document.createElement('span');
      amount.textContent = money(item.amount, data.currency) + (item.interval ? ' ' + intervalText(item) : '');
      li.appendChild(name);
      li.appendChild(amount);
      lines.appendChild(li);
    });
    if (data.email) $('email').value = data.email;
    $('submit').textContent = data.submit_label;
    show('checkout', true);
    reportHeight();
  }

  // ---- input formatting (what Stripe's fields do as you type) ----------------------------------

  function digits(value) {
    return value.replace(/\D/g, '');
  }

  function isAmex(number) {
    return /^3[47]/.test(number);
  }

  $('cardNumber').addEventListener('input', function (event) {
    var raw = digits(event.target.value).slice(0, 19);
    var groups = isAmex(raw) ? [4, 6, 5] : [4, 4, 4, 4, 3];
    var parts = [];
    var at = 0;
    for (var i = 0; i < groups.length && at < raw.length; i += 1) {
      parts.push(raw.slice(at, at + groups[i]));
      at += groups[i];
    }
    event.target.value = parts.join(' ');
  });

  $('cardExpiry').addEventListener('input', function (event) {
    var raw = digits(event.target.value).slice(0, 4);
    event.target.value = raw.length > 2 ? raw.slice(0, 2) + ' / ' + raw.slice(2) : raw;
  });

  $('cardCvc').addEventListener('input', function (event) {
    event.target.value = digits(event.target.value).slice(0, 4);
  });

  function syncPhoneField() {
    var on = $('enableStripePass').checked;
    show('phoneNumber-field', on);
    $('phoneNumber').required = on;
    if (!on) setFieldError('phoneNumber', '');
    reportHeight();
  }
  $('enableStripePass').addEventListener('change', syncPhoneField);
  syncPhoneField();

  $('billingCountry').addEventListener('change', function () {
    var us = $('billingCountry').value === 'US';
    $('billingPostalCode-label').textContent = us ? 'ZIP' : 'Postal code';
    $('billingPostalCode').placeholder = us ? 'ZIP' : 'Postal code';
  });

  // ---- validation (the server repeats it) ------------------------------------------------------

  function luhn(number) {
    var sum = 0;
    for (var i = 0; i < number.length; i += 1) {
      var d = Number(number.charAt(number.length - 1 - i));
      if (i % 2 === 1) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
    }
    return number.length > 0 && sum % 10 === 0;
  }

  function readForm() {
    return {
      email: $('email').value,
      cardNumber: $('cardNumber').value,
      cardExpiry: $('cardExpiry').value,
      cardCvc: $('cardCvc').value,
      billingName: $('billingName').value,
      billingCountry: $('billingCountry').value,
      billingPostalCode: $('billingPostalCode').value,
      saveInfo: $('enableStripePass').checked,
      phoneNumber: $('phoneNumber').value,
    };
  }

  function validate(form) {
    var errors = {};
    var email = form.email.trim();
    if (!email) errors.email = 'Your email is incomplete.';
    else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) errors.email = 'Your email address is invalid.';

    var number = form.cardNumber.replace(/[\s-]/g, '');
    var expected = isAmex(number) ? 15 : /^3(0[0-5]|[68])/.test(number) ? 14 : 16;
    if (!number || (/^\d+$/.test(number) && number.length < expected)) errors.cardNumber = 'Your card number is incomplete.';
    else if (!/^\d+$/.test(number) || number.length > 19 || !luhn(number)) errors.cardNumber = 'Your card number is invalid.';

    var expiry = /^(\d{1,2})\s*\/\s*(\d{2}|\d{4})$/.exec(form.cardExpiry.trim());
    var compact = form.cardExpiry.replace(/[\s/]/g, '');
    var month = expiry ? Number(expiry[1]) : /^\d{4}$/.test(compact) ? Number(compact.slice(0, 2)) : NaN;
    var yearText = expiry ? expiry[2] : compact.slice(2);
    var year = yearText.length === 2 ? 2000 + Number(yearText) : Number(yearText);
    var now = new Date();
    if (!expiry && !/^\d{4}$/.test(compact)) errors.cardExpiry = "Your card's expiration date is incomplete.";
    else if (!(month >= 1 && month <= 12)) errors.cardExpiry = "Your card's expiration date is invalid.";
    else if (year < now.getUTCFullYear() || (year === now.getUTCFullYear() && month < now.getUTCMonth() + 1)) {
      errors.cardExpiry = "Your card's expiration date is in the past.";
    } else if (year > now.getUTCFullYear() + 50) errors.cardExpiry = "Your card's expiration year is invalid.";

    var cvc = form.cardCvc.trim();
    if (!/^\d*$/.test(cvc)) errors.cardCvc = "Your card's security code is invalid.";
    else if (cvc.length < (isAmex(number) ? 4 : 3)) errors.cardCvc = "Your card's security code is incomplete.";
    else if (cvc.length > 4) errors.cardCvc = "Your card's security code is invalid.";

    if (!form.billingName.trim()) errors.billingName = 'Your name is incomplete.';
    var postal = form.billingPostalCode.trim();
    if (!postal) errors.billingPostalCode = 'Your ZIP is incomplete.';
    else if (form.billingCountry === 'US' && !/^\d{5}(-?\d{4})?$/.test(postal)) errors.billingPostalCode = 'Your ZIP is invalid.';
    if (form.saveInfo && digits(form.phoneNumber).length < 10) errors.phoneNumber = 'Your phone number is incomplete.';
    return errors;
  }

  function setFieldError(field, message) {
    var input = $(field);
    var box = $(field + '-error');
    box.textContent = message;
    box.hidden = !message;
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  function setMessage(id, message) {
    $(id).textContent = message;
    show(id, Boolean(message));
  }

  function showErrors(errors) {
    var firstInvalid = null;
    FIELDS.forEach(function (field) {
      setFieldError(field, errors[field] || '');
      if (errors[field] && !firstInvalid) firstInvalid = field;
    });
    if (firstInvalid) $(firstInvalid).focus();
    reportHeight();
  }

  // Errors appear on submit and clear while typing, never on blur: a message appearing on blur
  // moves the submit button between mousedown and mouseup, and the click is lost.
  FIELDS.forEach(function (field) {
    $(field).addEventListener('input', function () {
      if (/^card/.test(field)) setMessage('payment-error', '');
      if ($(field + '-error').hidden) return;
      if (!validate(readForm())[field]) setFieldError(field, '');
    });
  });

  function setSubmitting(on) {
    submitting = on;
    var button = $('submit');
    button.disabled = on;
    button.setAttribute('aria-busy', on ? 'true' : 'false');
    button.textContent = on ? 'Processing…' : session.submit_label;
    show('processing', on);
  }

  $('payment-form').addEventListener('submit', function (event) {
    event.preventDefault();
    if (submitting || !session) return;
    setMessage('payment-error', '');
    setMessage('form-error', '');
    var form = readForm();
    var errors = validate(form);
    showErrors(errors);
    if (Object.keys(errors).length > 0) return;
    setSubmitting(true);
    var body = JSON.stringify(Object.assign({ client_secret: clientSecret, key: publishableKey }, form));
    window
      .fetch('/v3/checkout_sessions/' + encodeURIComponent(sessionId) + '/confirm', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body,
      })
      .then(function (response) {
        return response.json().then(function (data) {
          return { status: response.status, data: data };
        });
      })
      .then(function (result) {
        if (result.status === 200) {
          finish(result.data);
          return;
        }
        setSubmitting(false);
        var error = (result.data && result.data.error) || {};
        if (error.fields) showErrors(error.fields);
        else if (result.status === 402) setMessage('payment-error', error.message || 'Your card was declined.');
        else setMessage('form-error', error.message || 'Something went wrong. Please try again.');
        reportHeight();
      })
      .catch(function () {
        setSubmitting(false);
        setMessage('form-error', 'We could not reach the payment server. Check your connection and try again.');
      });
  });

  function finish(result) {
    var target = result.redirect_url;
    if (embedded) {
      notifyParent({ type: 'embedded-checkout:complete', sessionId: sessionId, returnUrl: target || null });
      if (!target) completed(result.message, 'You can close this window.');
      return;
    }
    if (target) {
      window.location.assign(target);
      return;
    }
    completed(result.message, 'You can close this window.');
  }

  if (!sessionId || !clientSecret) {
    unavailable('This checkout is not available', 'The checkout link is incomplete (no client secret).');
    return;
  }
  var query = '?client_secret=' + encodeURIComponent(clientSecret) + (publishableKey ? '&key=' + encodeURIComponent(publishableKey) : '');
  window
    .fetch('/v3/checkout_sessions/' + encodeURIComponent(sessionId) + query)
    .then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error((data && data.error && data.error.message) || 'HTTP ' + response.status);
        return data;
      });
    })
    .then(render)
    .catch(function (error) {
      unavailable('This checkout is not available', error.message);
    });
})();
