/** `POST /v1/policy/publish`: the production trigger for a policy rollout (api/policy-rollout.ts). */
import { z } from 'zod';
import { sameUser } from '../auth/identity';
import { route, type DrwRoute } from '../route';
import type { RemediationService } from '../service';

const publishBody = z
  .object({
    version: z.string().regex(/^[0-9a-f]{16}$/, 'a policy version: 16 hex digits (drw policy validate prints it)').optional().describe('The version the caller validated; it must be the one this drw reads'),
    playbooks: z.array(z.string().min(1).max(63)).min(1).max(100).optional().describe('Only remediations on these playbooks'),
    percent: z.number().int().min(1).max(100).optional().describe('Canary: this share of the selection (default 100); the same remediations stay in as it grows'),
    reason: z.string().trim().min(1).max(1000),
    by: z.string().trim().min(1).max(256).optional().describe('Who publishes (loopback only; with a token it comes from the token)'),
  })
  .strict();

export function policyRoutes(service: RemediationService, defaultIdentity: string | undefined): DrwRoute[] {
  return [
    route({
      method: 'POST',
      path: '/v1/policy/publish',
      operationId: 'publishPolicy',
      summary: "Tell this drw's open remediations (all, by playbook, or a canary share) to re-plan on the policy version it reads",
      tags: ['policy'],
      permission: 'operate',
      body: 'json',
      schema: {
        body: publishBody,
        response: {
          202: z.object({ version: z.string(), signalled: z.array(z.string()), heldBack: z.number().int() }).describe('policyUpdated sent to each remediation in `signalled`'),
          409: z.looseObject({ error: z.string() }).describe('This drw reads another policy version than the one given'),
        },
      },
      handler: async ({ body, caller }) => {
        const by = caller.kind === 'person' ? sameUser(caller, 'by', body.by) : (body.by ?? defaultIdentity ?? 'api');
        const { by: _given, ...req } = body;
        return { status: 202, body: await service.publishPolicy({ ...req, by }) };
      },
    }),
  ];
}
