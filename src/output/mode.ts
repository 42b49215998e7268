/** How much a program prints: the original's two modes, plus two for operators and scripts. */
export const MODES = ['user', 'debug', 'quiet', 'json'] as const;
export type Mode = (typeof MODES)[number];
/** The original's lines. */
export const DEFAULT_MODE: Mode = 'user';

export function isMode(value: string): value is Mode {
  return (MODES as readonly string[]).includes(value);
}
