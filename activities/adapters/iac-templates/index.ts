import type { IacTemplate } from '../../interfaces';
import { bumpPackage } from './bump-package';
import { s3BlockPublicAccess } from './s3-block-public-access';
import { sgRemoveOpenIngress } from './sg-remove-open-ingress';
import type { TemplateFn } from './types';

export { TemplateError, memoryFiles } from './types';
export type { FileChange, TemplateFiles, TemplateResult, TemplateFn, TemplateErrorCode } from './types';
export { directoryFiles } from './files';
export { boundedDiff, changeDigest, MAX_DIFF_BYTES, oneLineSummary } from './change';

export const TEMPLATES: Record<IacTemplate, TemplateFn> = {
  s3_block_public_access: s3BlockPublicAccess,
  sg_remove_open_ingress: sgRemoveOpenIngress,
  bump_package: bumpPackage,
};

export function templateFor(name: string): TemplateFn | undefined {
  return Object.prototype.hasOwnProperty.call(TEMPLATES, name) ? TEMPLATES[name as IacTemplate] : undefined;
}
