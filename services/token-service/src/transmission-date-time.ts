/** ISO 8583:1987 field 7, transmission date and time: MMDDhhmmss in UTC. */
export function transmissionDateTime(at: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(at.getUTCMonth() + 1)}${two(at.getUTCDate())}${two(at.getUTCHours())}${two(at.getUTCMinutes())}${two(at.getUTCSeconds())}`;
}
