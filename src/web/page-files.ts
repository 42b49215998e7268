import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A file of the browser client, ready to send. */
export interface PageFile {
  readonly body: Buffer;
  readonly contentType: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Where the page lives in the package: plain files, served as they are, with no build step. */
const PAGE_FOLDER = join('src', 'web', 'page');

/**
 * The browser client's files by URL path (`/` is index.html), read once at start: a fixed set,
 * so no request can name any other file, and serving one costs no disk access.
 */
export function loadPage(): ReadonlyMap<string, PageFile> {
  const folder = pageFolder();
  const files = new Map<string, PageFile>();
  for (const name of readdirSync(folder)) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (contentType === undefined) continue;
    files.set(`/${name}`, { body: readFileSync(join(folder, name)), contentType });
  }
  const index = files.get('/index.html');
  if (index === undefined) throw new Error(`the web page is missing: no index.html in ${folder}`);
  files.set('/', index);
  return files;
}

/**
 * The page's folder, found from wherever this module runs (compiled in dist/src/web, or bundled
 * in dist/bin) by going up to the package's root, the first folder that holds it.
 */
function pageFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, PAGE_FOLDER);
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`the web page is missing: no ${PAGE_FOLDER} above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}
