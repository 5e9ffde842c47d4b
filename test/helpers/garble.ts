// Deterministic corruption of model bytes for robustness tests.
export function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** A copy of `bytes` with `flips` random bytes replaced by random values. */
export function garble(bytes: Uint8Array, seed: number, flips: number): Uint8Array {
  const random = xorshift(seed);
  const copy = bytes.slice();
  for (let i = 0; i < flips; i++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
  return copy;
}
