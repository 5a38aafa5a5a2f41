/**
 * How sizes read for people, the same in every panel.
 */

/** `512` → `512 B`, `1536` → `1.5 KiB`, `52428800` → `50 MiB` (1,024-based). */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) {
    return '';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0
    ? `${bytes} B`
    : `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}
