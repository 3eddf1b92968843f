/**
 * A read shared while it is fresh: callers within `maxAgeMs` of the read that is in flight or
 * done get its promise (one node request for all of them); a failed read is forgotten at once,
 * so the next caller asks again. `maxAgeMs` 0 reads every time.
 */
export function sharedRead<K, T>(
  read: (key: K) => Promise<T>,
  maxAgeMs: number,
  now: () => number = () => performance.now(),
): (key: K) => Promise<T> {
  if (maxAgeMs <= 0) return read;
  const entries = new Map<K, { at: number; value: Promise<T> }>();
  return (key) => {
    const t = now();
    const hit = entries.get(key);
    if (hit && t - hit.at <= maxAgeMs) return hit.value;
    // Old entries go as new ones come, so the map holds only what was read lately.
    for (const [k, e] of entries) if (t - e.at > maxAgeMs) entries.delete(k);
    const value = read(key);
    entries.set(key, { at: t, value });
    value.catch(() => {
      if (entries.get(key)?.value === value) entries.delete(key);
    });
    return value;
  };
}
