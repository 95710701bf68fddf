import fs from 'node:fs';
import path from 'node:path';
import type { TemplateFiles } from './types';

/** Folders that are never part of what a template should edit (and can be huge). */
const SKIP_DIRS = new Set(['.git', 'node_modules', '.terraform', 'vendor', '.venv', 'venv', '__pycache__']);
/** Larger files are not source a template edits; skipping them bounds memory on big repositories. */
const MAX_FILE_BYTES = 2 * 1024 * 1024;

/**
 * A TemplateFiles over a checked-out work tree. Reads are cached for the duration of one
 * template run, and nothing outside the tree can be read, even through a symlink.
 */
export function directoryFiles(root: string): TemplateFiles {
  let listing: string[] | undefined;
  const cache = new Map<string, string | undefined>();
  const walk = (rel: string, out: string[]) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory() && !SKIP_DIRS.has(e.name)) walk(p, out);
      else if (e.isFile()) out.push(p);
    }
  };
  return {
    list() {
      if (!listing) {
        listing = [];
        walk('', listing);
        listing.sort();
      }
      return listing;
    },
    read(p) {
      if (cache.has(p)) return cache.get(p);
      let content: string | undefined;
      try {
        // realpath: a symlinked folder on the way must not lead out of the tree either.
        const full = fs.realpathSync(path.resolve(root, p));
        if (full.startsWith(fs.realpathSync(root) + path.sep)) {
          const st = fs.statSync(full);
          content = st.isFile() && st.size <= MAX_FILE_BYTES ? fs.readFileSync(full, 'utf8') : undefined;
        }
      } catch {
        content = undefined;
      }
      cache.set(p, content);
      return content;
    },
  };
}
