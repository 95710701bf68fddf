/**
 * The contract between the IaC adapter and its change templates. A template is a pure
 * function of the work tree's content and its parameters: it never touches git, the
 * network or the disk, so it can be tested on in-memory trees and re-run on every retry.
 */

/** Read access to a work tree; paths are relative, with forward slashes. */
export interface TemplateFiles {
  /** Every regular file of the tree (VCS and dependency folders left out), sorted. */
  list(): string[];
  /** A file's UTF-8 content, or undefined when it does not exist. */
  read(path: string): string | undefined;
}

export interface FileChange {
  path: string;
  content: string;
}

export interface TemplateResult {
  /** Only files whose content actually changes; empty when there is nothing to do. */
  changes: FileChange[];
  /** Markdown lines for the commit message and pull request: what was changed and why. */
  summary: string;
}

export type TemplateFn = (files: TemplateFiles, params: Record<string, string>) => TemplateResult;

export type TemplateErrorCode =
  /** A required parameter is missing or malformed. */
  | 'invalid_params'
  /** The target (bucket, security group, package) is not in this repository. */
  | 'not_found'
  /** A file the template must read cannot be parsed. */
  | 'parse_error'
  /** The change would be wrong or unsafe (a downgrade, invalidated hashes, ...). */
  | 'refused';

/** What a template throws: always a problem with the request or the repository, never transient. */
export class TemplateError extends Error {
  constructor(
    readonly code: TemplateErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

export function requireParam(params: Record<string, string>, name: string): string {
  const v = params[name];
  if (typeof v !== 'string' || v.trim() === '') throw new TemplateError('invalid_params', `parameter "${name}" is required`);
  return v.trim();
}

/** Builds a TemplateFiles over an in-memory map (tests, and templates chaining on each other). */
export function memoryFiles(map: Record<string, string>): TemplateFiles {
  const paths = Object.keys(map).sort();
  return { list: () => paths, read: (p) => map[p] };
}

/** Keeps only real changes, so a template that rewrites a file identically reports nothing. */
export function onlyChanged(files: TemplateFiles, changes: FileChange[]): FileChange[] {
  return changes.filter((c) => files.read(c.path) !== c.content);
}
