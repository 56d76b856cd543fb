// The ticket page's rotating code (issue 17): drawn here, in the browser, from the ticket's
// TOTP key that the page carries for its holder, so it keeps changing with no network once the
// page is open. The value shown is on #qr's data-value (and in #rotating-value for a scanner
// that types codes), the QR is drawn with the vendored qrcode-generator (/assets/qrcode.js).
// The countdown's words come from the page, in the ticket's language (#rotating-countdown's
// data-words, with {s} for the seconds).
'use strict';

(() => {
  const box = document.getElementById('qr');
  if (!box || !box.dataset.key) return;
  const { pattern, key } = box.dataset;
  const period = Number(box.dataset.period);
  const digits = Number(box.dataset.digits);
  const text = document.getElementById('rotating-value');
  const countdown = document.getElementById('rotating-countdown');
  let shown = null;

  function draw() {
    const now = Date.now() / 1000;
    const value = pattern.replace('{totp_value_0}', EncoreTotp.totp(key, now, period, digits));
    if (value !== shown) {
      // Uppercase, digits and colons only: the QR's compact alphanumeric mode.
      const qr = qrcode(0, 'M');
      qr.addData(value, 'Alphanumeric');
      qr.make();
      box.innerHTML = qr.createSvgTag({ cellSize: 4, margin: 16, scalable: true });
      box.dataset.value = value;
      // The QR version: 4 modules more per version, from 21 at version 1.
      box.dataset.qrVersion = String((qr.getModuleCount() - 17) / 4);
      if (text) text.textContent = value;
      shown = value;
    }
    if (countdown) {
      const left = Math.ceil(period - (now % period));
      countdown.textContent = countdown.dataset.words.replace('{s}', String(left));
    }
  }

  draw();
  setInterval(draw, 1000);
})();
