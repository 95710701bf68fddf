import { alignChangedBlocks } from './hcl/align';
import { HclBlock, HclFile, parseHcl, resources } from './hcl/parser';
import { HclSyntaxError } from './hcl/tokenizer';
import { applyEdits, attachedCommentsStart, mergeRemovals, removalRange, TextEdit } from './text-edits';
import { TemplateError, TemplateFiles } from './types';

export interface TfFile {
  path: string;
  hcl: HclFile;
}

export interface TfResource {
  path: string;
  hcl: HclFile;
  block: HclBlock;
  /** The resource's local name (second label). */
  name: string;
}

/**
 * Parses the .tf files that mention any of `words`. Files that cannot mention the resource
 * types a template cares about are not parsed at all, so exotic syntax elsewhere in a large
 * repository cannot block a fix; a file that does mention them and cannot be parsed stops
 * the template, because silently skipping it could leave half the problem in place.
 */
export function loadTerraform(files: TemplateFiles, words: string[]): TfFile[] {
  const out: TfFile[] = [];
  for (const path of files.list()) {
    if (!path.endsWith('.tf')) continue;
    const src = files.read(path);
    if (src === undefined || !words.some((w) => src.includes(w))) continue;
    try {
      out.push({ path, hcl: parseHcl(src) });
    } catch (err) {
      if (err instanceof HclSyntaxError) throw new TemplateError('parse_error', `${path}: ${err.message}`);
      throw err;
    }
  }
  return out;
}

export function findResources(tf: TfFile[], type: string): TfResource[] {
  return tf.flatMap((f) => resources(f.hcl, type).map((block) => ({ path: f.path, hcl: f.hcl, block, name: block.labels[1] })));
}

/** Accepts `name`, `type.name` and `module...type.name` spellings of a resource address. */
export function resourceNameOf(ref: string, type: string): string {
  const idx = ref.lastIndexOf(`${type}.`);
  return idx >= 0 ? ref.slice(idx + type.length + 1).replace(/\[.*$/, '') : ref;
}

/** True when `expr` (compacted) is a reference to the resource `type.name`, e.g. `aws_s3_bucket.logs[0].id`. */
export function refersTo(expr: string | undefined, type: string, name: string, attrs: string[]): boolean {
  if (!expr) return false;
  const m = new RegExp(`^${type}\\.([A-Za-z_][A-Za-z0-9_-]*)(\\[[^\\]]*\\])?\\.(\\w+)$`).exec(expr);
  return !!m && m[1] === name && attrs.includes(m[3]);
}

/** Applies edits to a .tf file and re-aligns the blocks they touched like `terraform fmt`. */
export function editTerraform(src: string, edits: TextEdit[]): string {
  return alignChangedBlocks(src, applyEdits(src, mergeRemovals(src, edits)));
}

/** The removal of a whole block, with the comment lines that document it. */
export function removeBlock(src: string, block: HclBlock): TextEdit {
  return { ...removalRange(src, attachedCommentsStart(src, block.start), block.end), text: '' };
}
