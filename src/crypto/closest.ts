/** k-closest selection by XOR distance over packed 32-byte IDs (the js backend; native/wasm do it in C). */

/** Compare XOR distances of ids a and b (offsets into `ids`) to target: <0 when a is closer. */
function cmpDistance(target: Uint8Array, ids: Uint8Array, a: number, b: number): number {
  for (let i = 0; i < 32; i++) {
    const da = ids[a + i]! ^ target[i]!
    const db = ids[b + i]! ^ target[i]!
    if (da !== db) return da - db
  }
  return 0
}

/** The JS implementation of {@link CryptoBackend.closest}: a bounded insertion sort by XOR distance. */
export function closestJs(target: Uint8Array, ids: Uint8Array, k: number): Uint32Array {
  const n = ids.length >>> 5
  const m = Math.min(k, n)
  const best = new Uint32Array(m)
  let len = 0
  for (let i = 0; i < n; i++) {
    const off = i << 5
    // sorted insertion into a list of at most m: k is small (16) in every caller
    if (len === m && cmpDistance(target, ids, off, best[m - 1]! << 5) >= 0) continue
    let j = len < m ? len++ : m - 1
    while (j > 0 && cmpDistance(target, ids, off, best[j - 1]! << 5) < 0) {
      best[j] = best[j - 1]!
      j--
    }
    best[j] = i
  }
  return best
}
