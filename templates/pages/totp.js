// Rotating codes in the browser (issue 17): TOTP (RFC 6238, HMAC-SHA1, a step of `period`
// seconds from the Unix epoch), as the server computes it (src/domain/rotating.rs) and as Google
// Wallet's rotatingBarcode does. SHA-1 and HMAC are written out here, synchronously, rather
// than taken from WebCrypto: crypto.subtle exists only in secure contexts (a ticket page opened
// over plain HTTP on a phone has none) and is async, where the page wants a value now.
'use strict';

const EncoreTotp = (() => {
  function sha1(bytes) {
    const words = new Uint32Array(80);
    let h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476, h4 = 0xc3d2e1f0;
    const length = bytes.length;
    const padded = new Uint8Array(((length + 9 + 63) >> 6) << 6);
    padded.set(bytes);
    padded[length] = 0x80;
    const view = new DataView(padded.buffer);
    view.setUint32(padded.length - 4, length * 8);
    view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
    const rotl = (x, n) => (x << n) | (x >>> (32 - n));
    for (let block = 0; block < padded.length; block += 64) {
      for (let i = 0; i < 16; i++) words[i] = view.getUint32(block + i * 4);
      for (let i = 16; i < 80; i++) {
        words[i] = rotl(words[i - 3] ^ words[i - 8] ^ words[i - 14] ^ words[i - 16], 1);
      }
      let a = h0, b = h1, c = h2, d = h3, e = h4;
      for (let i = 0; i < 80; i++) {
        let f, k;
        if (i < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
        else if (i < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
        else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc; }
        else { f = b ^ c ^ d; k = 0xca62c1d6; }
        const t = (rotl(a, 5) + f + e + k + words[i]) >>> 0;
        e = d; d = c; c = rotl(b, 30) >>> 0; b = a; a = t;
      }
      h0 = (h0 + a) >>> 0; h1 = (h1 + b) >>> 0; h2 = (h2 + c) >>> 0;
      h3 = (h3 + d) >>> 0; h4 = (h4 + e) >>> 0;
    }
    const out = new Uint8Array(20);
    const outView = new DataView(out.buffer);
    [h0, h1, h2, h3, h4].forEach((h, i) => outView.setUint32(i * 4, h));
    return out;
  }

  function hmacSha1(key, message) {
    if (key.length > 64) key = sha1(key);
    const inner = new Uint8Array(64 + message.length);
    const outer = new Uint8Array(64 + 20);
    for (let i = 0; i < 64; i++) {
      const k = i < key.length ? key[i] : 0;
      inner[i] = k ^ 0x36;
      outer[i] = k ^ 0x5c;
    }
    inner.set(message, 64);
    outer.set(sha1(inner), 64);
    return sha1(outer);
  }

  function fromHex(hex) {
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
    return bytes;
  }

  // RFC 4226: HMAC-SHA1 of the 8-byte counter, dynamically truncated to `digits` digits.
  function hotp(key, counter, digits) {
    const message = new Uint8Array(8);
    const view = new DataView(message.buffer);
    view.setUint32(0, Math.floor(counter / 0x100000000));
    view.setUint32(4, counter >>> 0);
    const hash = hmacSha1(key, message);
    const offset = hash[19] & 0x0f;
    const binary = ((hash[offset] & 0x7f) * 0x1000000) + (hash[offset + 1] << 16)
      + (hash[offset + 2] << 8) + hash[offset + 3];
    return String(binary % Math.pow(10, digits)).padStart(digits, '0');
  }

  const step = (unixSeconds, period) => Math.floor(Math.max(0, unixSeconds) / period);

  // The TOTP value at `unixSeconds` of the Base16 key.
  function totp(keyHex, unixSeconds, period, digits) {
    return hotp(fromHex(keyHex), step(unixSeconds, period), digits);
  }

  // Whether `value` is the TOTP value of now, give or take `leewaySteps` steps.
  function accepts(keyHex, value, unixSeconds, period, digits, leewaySteps) {
    const key = fromHex(keyHex);
    const now = step(unixSeconds, period);
    for (let counter = now - leewaySteps; counter <= now + leewaySteps; counter++) {
      if (counter >= 0 && hotp(key, counter, digits) === value) return true;
    }
    return false;
  }

  // `RC1:<performance>:<ticket>:<generation>:<period>:<totp>`, or null.
  function parse(code) {
    const match = /^RC1:(\d+):(\d+):(\d+):(\d+):(\d+)$/.exec(code);
    if (!match) return null;
    return {
      performance_id: Number(match[1]),
      ticket_id: Number(match[2]),
      generation: Number(match[3]),
      period: Number(match[4]),
      totp: match[5],
    };
  }

  return { totp, accepts, parse };
})();
