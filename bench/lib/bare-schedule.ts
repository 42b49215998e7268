/**
 * What the bare yardsticks share: random symbols of the default alphabet from Math.random (a
 * yardstick need not be reproducible), and the original's schedule, a wait of 1-5 s and then
 * 1-5 symbols, forever, with nothing else around it.
 */
import { encodeServerFrame } from '../../src/protocol/messages.js';
import { DEFAULT_ALPHABET } from '../../src/server/config.js';

const ALPHABET = Buffer.from(DEFAULT_ALPHABET, 'latin1');

/** A whole number from `min` to `max`, both included. */
export const randomBetween = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min + 1));

/** One random symbol's byte. */
export const randomSymbol = (): number => ALPHABET[randomBetween(0, ALPHABET.length - 1)] as number;

export function randomSymbols(length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = randomSymbol();
  return out;
}

/** Hands `send` a chunk frame after every wait of 1-5 s; returns what stops it. */
export function bareSchedule(send: (frame: Buffer) => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const next = (): void => {
    const seconds = randomBetween(1, 5);
    timer = setTimeout(() => {
      send(encodeServerFrame('symbols', randomSymbols(randomBetween(1, 5)), seconds));
      next();
    }, seconds * 1000);
  };
  next();
  return () => clearTimeout(timer);
}
