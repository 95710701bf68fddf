/** `POST /v1/detections`: one detection in drw's own format starts a remediation or signals the open one. */
import { z } from 'zod';
import { route, type DrwRoute } from '../route';
import { detectionBody, submitOutcome } from '../schemas';
import { jsonBytes } from '../../domain/details';
import type { DetectionLimits } from '../../domain/detection';
import { ApiError, type RemediationService } from '../service';

export function detectionRoutes(service: RemediationService, defaultIdentity: string | undefined, limits: DetectionLimits): DrwRoute[] {
  return [
    route({
      method: 'POST',
      path: '/v1/detections',
      operationId: 'submitDetection',
      summary: "Submit one detection in drw's format: starts a remediation, or signals the running one with the same deduplication key",
      tags: ['detections'],
      permission: 'submit',
      body: 'json',
      schema: { body: detectionBody, response: { 202: z.object({ remediations: z.array(submitOutcome) }).describe('Accepted') } },
      handler: async ({ body, caller }) => {
        // The declared schema takes the largest configurable details; the configured limit applies here.
        const size = jsonBytes(body.details ?? {});
        if (size > limits.maxDetailsBytes) {
          throw new ApiError(400, 'invalid request body', [{ path: 'details', message: `details are ${size} bytes of JSON, more than the limit of ${limits.maxDetailsBytes} (DRW_MAX_DETAILS_BYTES)`, code: 'too_big' }]);
        }
        const by = caller.kind === 'person' ? caller.user : (defaultIdentity ?? `api:${body.source}`);
        // A person's resolve may not undo a safeguard they could not have approved (a contained host released).
        const actor = caller.kind === 'person' ? { user: caller.user, groups: caller.groups } : undefined;
        return { status: 202, body: { remediations: [await service.submit(body, by, actor)] } };
      },
    }),
  ];
}
