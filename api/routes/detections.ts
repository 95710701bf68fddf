/** `POST /v1/detections`: one detection in drw's own format starts a remediation or signals the open one. */
import { z } from 'zod';
import { route, type DrwRoute } from '../route';
import { detectionBody, submitOutcome } from '../schemas';
import type { RemediationService } from '../service';

export function detectionRoutes(service: RemediationService, defaultIdentity?: string): DrwRoute[] {
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
        const by = caller.kind === 'person' ? caller.user : (defaultIdentity ?? `api:${body.source}`);
        return { status: 202, body: { remediations: [await service.submit(body, by)] } };
      },
    }),
  ];
}
