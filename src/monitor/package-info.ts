import { readFileSync } from 'node:fs';

/** Where this package is installed, and its version. */
export interface PackageInfo {
  readonly root: URL;
  readonly version: string;
}

/**
 * The nearest folder above this file whose package.json is ours: the same code runs from
 * dist/src/ (tests) and from the bundle's chunks in dist/bin/ (the programs), installed or not.
 */
export function findPackage(): PackageInfo | undefined {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    try {
      const manifest = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'multi-socket-apps') return { root: dir, version: manifest.version ?? 'unknown' };
    } catch {
      // Not here: look one folder up.
    }
    if (dir.pathname === '/') return undefined;
  }
}
