/** One event of the `json` mode: a single line, with the time first so logs sort and merge. */
export function jsonLine(event: string, fields: Record<string, unknown>): string {
  return JSON.stringify({ time: new Date().toISOString(), event, ...fields });
}
