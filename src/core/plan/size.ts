/** A size as plan files write it: `2GB`, `512MB`, `100M`, `1.5GiB`, `4096` (bytes). Units are powers of 1024. */
export const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(B|K|KB|KiB|M|MB|MiB|G|GB|GiB|T|TB|TiB)?\s*$/i;

const UNIT: Readonly<Record<string, number>> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/**
 * Bytes in a size (`2GB` → 2147483648); `undefined` when it is not one.
 *
 * @example
 * parseSize('100MB'); // → 104857600
 */
export function parseSize(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text > 0 ? Math.floor(text) : undefined;
  const m = SIZE_PATTERN.exec(text);
  if (m === null) return undefined;
  const unit = UNIT[(m[2] ?? 'b').charAt(0).toLowerCase()] as number;
  const bytes = Math.floor(Number(m[1]) * unit);
  return bytes > 0 ? bytes : undefined;
}
