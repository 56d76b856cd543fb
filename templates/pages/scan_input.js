'use strict';
// How ticket codes reach the scanner page besides its code field: the camera, read by the
// browser's own BarcodeDetector where it has one that reads QR codes (Chrome on Android and
// macOS), and otherwise by ZXing-C++ compiled to WebAssembly (iOS Safari, Firefox, Chromium on
// Linux), which Encore itself serves (vendored barcode-detector ponyfill, no CDN); and keyboard-
// wedge hardware scanners, which type the code and Enter wherever the focus is. Every code read
// goes to the one function the page gives, the same as a code typed into the field.

const ScanInput = (() => {
  // Versioned paths: the files behind them never change, so browsers keep them for a year.
  const ZXING_SCRIPT = '/assets/vendor/barcode-detector-3.2.2/ponyfill.js';
  const ZXING_WASM = '/assets/vendor/zxing-wasm-3.1.3/zxing_reader.wasm';
  const LOOK_EVERY_MS = 200;
  // The same code in front of the camera is one scan, not one per frame.
  const SAME_CODE_MS = 3000;
  // A wedge scanner types a character every few milliseconds, a person one every 100 ms or more:
  // a burst of keys ending in Enter is a code when it came fast on average (a scanner's odd
  // hiccup does not lose the code). A pause this long starts a new burst.
  const WEDGE_MEAN_GAP_MS = 40;
  const WEDGE_PAUSE_MS = 500;
  const WEDGE_MIN_LENGTH = 8;

  const $ = (id) => document.getElementById(id);

  // A field, or anything else that takes typing: its keys (and its Enter) are its own.
  const editable = (target) => target instanceof HTMLElement
    && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));

  function listenForWedge(onCode) {
    let typed = '';
    let firstKeyAt = 0;
    let lastKeyAt = -Infinity;
    document.addEventListener('keydown', (event) => {
      if (event.isComposing || editable(event.target)) return;
      const now = event.timeStamp;
      const previousKeyAt = lastKeyAt;
      if (now - lastKeyAt > WEDGE_PAUSE_MS) {
        typed = '';
        firstKeyAt = now;
      }
      lastKeyAt = now;
      if (event.key === 'Enter') {
        const fast = (now - firstKeyAt) / Math.max(typed.length, 1) <= WEDGE_MEAN_GAP_MS;
        if (typed.length >= WEDGE_MIN_LENGTH && fast) {
          // Not also a press of whatever button has the focus.
          event.preventDefault();
          onCode(typed);
        }
        typed = '';
        lastKeyAt = -Infinity;
      } else if (event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) {
        // Inside a scanner's burst, a key is only a character of the code: a ticket code may
        // hold a space or a slash (Base45), which must not press the focused button, scroll
        // the page or open the browser's quick find. Typed as they came, nothing trimmed.
        if (typed.length > 0 && now - previousKeyAt <= WEDGE_MEAN_GAP_MS) event.preventDefault();
        typed += event.key;
      }
    });
    $('wedge-method').textContent = 'Hardware scanner ready';
  }

  async function nativeReadsQr() {
    if (!('BarcodeDetector' in window)) return false;
    try {
      return (await window.BarcodeDetector.getSupportedFormats()).includes('qr_code');
    } catch (_) {
      return false;
    }
  }

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error('could not load ' + src));
      document.head.appendChild(script);
    });
  }

  // ZXing's detector, its WebAssembly fetched from this server and compiled before the first
  // frame, so that a failure shows at once rather than as a camera that never reads.
  async function zxingDetector() {
    if (!window.BarcodeDetectionAPI) await loadScript(ZXING_SCRIPT);
    const api = window.BarcodeDetectionAPI;
    await api.prepareZXingModule({
      overrides: { locateFile: (path, prefix) => (path.endsWith('.wasm') ? ZXING_WASM : prefix + path) },
      fireImmediately: true,
    });
    return new api.BarcodeDetector({ formats: ['qr_code'] });
  }

  function startCamera(onCode, onCameraError, native) {
    const method = $('camera-method');
    const toggle = $('camera-toggle');
    const video = $('camera');
    const label = native ? 'built-in detector' : 'ZXing (WebAssembly)';
    let detector = null;
    let stream = null;
    let lastCode = '';
    let lastAt = 0;
    method.textContent = 'Camera: ' + label;
    toggle.hidden = false;

    async function look() {
      if (!stream) return;
      try {
        const codes = video.readyState >= 2 ? await detector.detect(video) : [];
        const code = codes.length ? codes[0].rawValue : '';
        if (code && (code !== lastCode || Date.now() - lastAt > SAME_CODE_MS)) {
          lastCode = code;
          lastAt = Date.now();
          onCode(code);
        }
      } catch (_) {
        // A frame that could not be read; the next one may.
      }
      setTimeout(look, LOOK_EVERY_MS);
    }

    function stop() {
      stream.getTracks().forEach((track) => track.stop());
      stream = null;
      video.hidden = true;
      toggle.textContent = 'Scan with the camera';
      method.textContent = 'Camera: ' + label;
    }

    toggle.addEventListener('click', async () => {
      if (stream) {
        stop();
        return;
      }
      try {
        detector = detector || (native
          ? new window.BarcodeDetector({ formats: ['qr_code'] })
          : await zxingDetector());
      } catch (e) {
        method.textContent = 'Camera: the QR decoder did not load (' + e.message + ')';
        onCameraError('The QR decoder did not load (' + e.message + '); type or paste the code.');
        return;
      }
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
      } catch (e) {
        onCameraError('The camera is not available (' + e.message + '); type or paste the code.');
        return;
      }
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      toggle.textContent = 'Stop the camera';
      method.textContent = 'Camera on: ' + label;
      look();
    });
  }

  // `onCode(code)`: a code was read; `onCameraError(detail)`: the camera could not start.
  async function start({ onCode, onCameraError }) {
    listenForWedge(onCode);
    if (!window.isSecureContext || !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) {
      $('camera-method').textContent = 'Camera: needs HTTPS (see the operations guide)';
      return;
    }
    startCamera(onCode, onCameraError, await nativeReadsQr());
  }

  return { start };
})();
