/**
 * CRC-32 (IEEE 802.3, the zlib polynomial). Node has `zlib.crc32` only from 20.15, and the floor of
 * this library is Node 20.0, so the 1 KiB table is built here once.
 *
 * The checksum is not a security control: it lets us (and secret scanners) tell a real token from
 * a typo or random junk without a database round trip.
 */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 of an ASCII/latin1 string (tokens never hold anything else), or of its first `end`
 * characters (no slice on the request path).
 */
export function crc32(text: string, end = text.length): number {
  let crc = 0xffffffff;
  for (let i = 0; i < end; i++) {
    crc = TABLE[(crc ^ text.charCodeAt(i)) & 0xff] ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * CRC-32 of `text[0, end)`, or `-1` if a character of `text[from, end)` is not base62: the
 * alphabet check and the checksum of a token's body in one pass (the request path reads each
 * character once).
 */
export function crc32OfBase62(text: string, from: number, end: number): number {
  let crc = 0xffffffff;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    if (
      i >= from &&
      !((code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122))
    ) {
      return -1;
    }
    crc = TABLE[(crc ^ code) & 0xff] ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
