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
