/**
 * The cost of the forged-token tag (issue 12), in ns per call, in one process without a server:
 *
 * - `TokenTag.verify` of a genuine tag and of a forged one (one and two keys);
 * - `TokenFormat.parse` of a forged, well-formed tagged token (what a forged request now costs
 *   before it is refused: length, head, alphabet, CRC-32 and one HMAC), next to `parse` of an
 *   untagged token (the check every request already paid before issue 12).
 *
 * Standalone, not part of `npm run bench`. Run: npx ts-node --transpile-only bench/tag-micro.ts
 */
import { randomBytes } from 'node:crypto';
import { encodeBase62 } from '../lib/tokens/base62';
import { crc32 } from '../lib/tokens/crc32';
import { TokenFormat } from '../lib/tokens/token-format';
import { TokenHasher } from '../lib/tokens/token-hasher';
import { TAG_CHARS, TokenTag } from '../lib/tokens/token-tag';

const KEY_A = randomBytes(32).toString('base64url');
const KEY_B = randomBytes(32).toString('base64url');
const ROUNDS = 5;
const CALLS = 200_000;

/**
 * Median ns/op of `fn` over {@link ROUNDS} rounds of {@link CALLS} calls (after a warm-up), in
 * CPU time of this process: on a machine shared with other work, wall time would count the time
 * this process waited for a core.
 */
function measure(fn: (i: number) => unknown): number {
  let sink = 0;
  for (let i = 0; i < 20_000; i++) sink += fn(i) ? 1 : 0;
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < CALLS; i++) sink += fn(i) ? 1 : 0;
    const used = process.cpuUsage(start);
    samples.push(((used.user + used.system) * 1e3) / CALLS);
  }
  if (sink < 0) console.log(sink);
  return samples.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)];
}

/** `count` distinct well-formed tagged tokens with a valid CRC and a random (forged) tag. */
function forgeries(count: number): string[] {
  const genuine = new TokenFormat('durin', { tag: new TokenTag([KEY_A]), acceptUntagged: true });
  return Array.from({ length: count }, () => {
    const token = genuine.generate('access');
    const tagStart = token.length - 6 - TAG_CHARS;
    const body =
      token.slice(0, tagStart) +
      encodeBase62(BigInt(`0x${randomBytes(8).toString('hex')}`), TAG_CHARS);
    return body + encodeBase62(BigInt(crc32(body)), 6);
  });
}

function main(): void {
  const one = new TokenTag([KEY_A]);
  const two = new TokenTag([KEY_B, KEY_A]);
  const bodies = Array.from(
    { length: 1024 },
    () => `durin_at2_${randomBytes(32).toString('hex').slice(0, 43)}`,
  );
  const tags = bodies.map((body) => one.sign(body));
  const wrong = tags.map((tag) => (tag[0] === 'A' ? 'B' : 'A') + tag.slice(1));
  const forged = forgeries(1024);
  const format = new TokenFormat('durin', { tag: one, acceptUntagged: true });
  const untagged = new TokenFormat('durin');
  const plain = Array.from({ length: 1024 }, () => untagged.generate('access'));

  const sha = new TokenHasher([]);
  const rows: [string, number][] = [
    ['for scale: SHA-256 of a token (every request)', measure((i) => sha.hash(plain[i & 1023]))],
    [
      'TokenTag.verify, genuine, 1 key',
      measure((i) => one.verify(bodies[i & 1023], tags[i & 1023])),
    ],
    [
      'TokenTag.verify, forged, 1 key',
      measure((i) => one.verify(bodies[i & 1023], wrong[i & 1023])),
    ],
    [
      'TokenTag.verify, genuine under the older of 2 keys',
      measure((i) => two.verify(bodies[i & 1023], tags[i & 1023])),
    ],
    [
      'TokenTag.verify, forged, 2 keys',
      measure((i) => two.verify(bodies[i & 1023], wrong[i & 1023])),
    ],
    [
      'TokenFormat.parse, forged tagged token (refused)',
      measure((i) => format.parse(forged[i & 1023])),
    ],
    [
      'TokenFormat.parse, untagged token (no tag to check)',
      measure((i) => untagged.parse(plain[i & 1023])),
    ],
  ];
  console.log(`node ${process.version}, median of ${ROUNDS} rounds x ${CALLS} calls, CPU time`);
  for (const [name, ns] of rows)
    console.log(`${name.padEnd(52)} ${ns.toFixed(0).padStart(6)} ns/op`);
  if (forged.some((token) => format.parse(token) !== null))
    throw new Error('a forgery was accepted');
}

main();
