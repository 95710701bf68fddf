import { onlyChanged, requireParam, TemplateError, TemplateFiles, TemplateResult } from '../types';
import { bumpGoMod } from './go-mod';
import { bumpPackageJson } from './package-json';
import { bumpRequirements } from './requirements';
import type { ManifestBumper } from './types';
import { isVersion } from './version';

/**
 * Bumps a vulnerable package to its fixed version in every manifest that declares it (or only
 * in `manifestPath`). Never lowers a version: a declaration already at or above the fix is
 * left alone, and when all of them are, the template reports no change.
 */

function bumperFor(path: string): ManifestBumper | undefined {
  const base = path.split('/').pop()!;
  if (base === 'package.json') return bumpPackageJson;
  if (base === 'go.mod') return bumpGoMod;
  if (/^(requirements|constraints)([-_.][^/]*)?\.txt$/.test(base) || /(^|\/)requirements\/[^/]+\.txt$/.test(path)) return bumpRequirements;
  return undefined;
}

const LOCK_FILES: Record<string, string[]> = {
  'package.json': ['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml'],
  'go.mod': ['go.sum'],
};

export function bumpPackage(files: TemplateFiles, params: Record<string, string>): TemplateResult {
  const pkg = requireParam(params, 'package');
  const fixed = requireParam(params, 'fixedVersion');
  if (!isVersion(fixed)) throw new TemplateError('invalid_params', `parameter "fixedVersion" is not a version: "${fixed}"`);
  if (/[\s"'\\]/.test(pkg)) throw new TemplateError('invalid_params', `parameter "package" is not a package name: "${pkg}"`);

  let candidates: string[];
  const manifestPath = params.manifestPath?.trim().replace(/^\.?\//, '');
  if (manifestPath) {
    if (!bumperFor(manifestPath)) throw new TemplateError('invalid_params', `unsupported manifest "${manifestPath}" (package.json, requirements*.txt, go.mod)`);
    if (files.read(manifestPath) === undefined) throw new TemplateError('not_found', `manifest "${manifestPath}" does not exist`);
    candidates = [manifestPath];
  } else {
    // A cheap text filter first; pip names compare case-insensitively, hence the lower-casing.
    const needle = pkg.split(/[-_.]/)[0].toLowerCase();
    candidates = files.list().filter((p) => bumperFor(p) && files.read(p)!.toLowerCase().includes(needle));
  }

  const changes: { path: string; content: string }[] = [];
  const notes: string[] = [];
  let found = 0;
  for (const path of candidates) {
    const before = files.read(path)!;
    const r = bumperFor(path)!(path, before, pkg, fixed);
    if (!r.found) continue;
    found++;
    notes.push(...r.notes);
    if (r.content === before) continue;
    changes.push({ path, content: r.content });
    const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
    const locks = (LOCK_FILES[path.slice(dir.length)] ?? []).filter((l) => files.read(dir + l) !== undefined);
    if (locks.length > 0) notes.push(`- \`${locks.map((l) => dir + l).join('`, `')}\` must be regenerated before merging (not done by drw)`);
  }
  if (found === 0) {
    throw new TemplateError('not_found', `package "${pkg}" is not declared in ${manifestPath ? `"${manifestPath}"` : 'any package.json, requirements*.txt or go.mod'}`);
  }
  const real = onlyChanged(files, changes);
  return {
    changes: real,
    summary: real.length === 0 ? [`\`${pkg}\` is already at \`${fixed}\` or later everywhere it is declared.`, ...notes].join('\n') : [`Bump \`${pkg}\` to \`${fixed}\`:`, ...notes].join('\n'),
  };
}
