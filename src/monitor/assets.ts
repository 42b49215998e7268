import { readFileSync } from 'node:fs';
import { findPackage } from './package-info.js';

/** A file of the dashboard page, read once when the monitor starts. */
export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/** The page's files, as the build leaves them in dist/dashboard/ (the page's code and uPlot bundled in one script). */
const FILES: Readonly<Record<string, string>> = {
  '/': 'index.html',
  '/dashboard.js': 'dashboard.js',
  '/dashboard.css': 'dashboard.css',
  '/favicon.svg': 'favicon.svg',
};

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

/**
 * The dashboard's files by URL path, read from the package's dist/dashboard/. Missing files
 * (a tree that was never built) leave the page out, not the monitor.
 */
export function loadAssets(): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  const folder = findPackage()?.root;
  if (folder === undefined) return assets;
  for (const [path, file] of Object.entries(FILES)) {
    try {
      assets.set(path, { type: TYPES[file.slice(file.lastIndexOf('.') + 1)] ?? 'application/octet-stream', body: readFileSync(new URL(`dist/dashboard/${file}`, folder)) });
    } catch {
      // Not built: the page says so.
    }
  }
  return assets;
}
