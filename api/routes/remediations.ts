/**
 * A remediation's state, and the people's messages to it: risk change, approve/deny, pause,
 * resume, cancel, false positive. With person authentication the identity comes from the
 * verified token (api/auth/identity.ts); on the embedded loopback default, from the body.
 */
import { z } from 'zod';
import type { Caller } from '../auth';
import { approvalFromToken, operatorFromToken, riskFromToken } from '../auth/identity';
import type { Principal } from '../auth/users';
import { route, type DrwRoute } from '../route';
import { approvalBody, operatorBody, planSchema, remediationParams, remediationSchema, riskBody, stepParams, tokenApprovalBody, tokenOperatorBody } from '../schemas';
import type { RemediationService } from '../service';

export interface RemediationRouteDeps {
  service: RemediationService;
  /** Person authentication is on: bodies carry no identity (it comes from the token). */
  users: boolean;
  /** Identity used when a request names none (embedded default, loopback only). */
  defaultIdentity?: string;
}

const person = (c: Caller): Principal | undefined => (c.kind === 'person' ? { user: c.user, groups: c.groups, userClaim: c.userClaim } : undefined);

const accepted = (what: string) => z.object({ id: z.string(), accepted: z.literal(what) }).describe('Signal sent');

export function remediationRoutes(d: RemediationRouteDeps): DrwRoute[] {
  const s = d.service;
  const decision = (kind: 'approve' | 'deny') =>
    route({
      method: 'POST',
      path: `/v1/remediations/{id}/steps/{stepId}/${kind}`,
      operationId: `${kind}Step`,
      summary: kind === 'approve' ? 'Approve a step awaiting approval (a workflow update: answers with the new plan); the step’s own approval rule applies' : 'Deny a step awaiting approval (the step is skipped)',
      tags: ['approvals'],
      permission: 'decide',
      body: 'json',
      schema: {
        params: stepParams,
        body: d.users ? tokenApprovalBody : approvalBody,
        response: {
          200: z.object({ id: z.string(), plan: planSchema }).describe('Decision recorded; the re-planned plan'),
          404: z.object({ error: z.string() }).describe('No such remediation'),
          409: z.looseObject({ error: z.string() }).describe('The step is not awaiting approval, is unknown, or the remediation is over'),
        },
      },
      handler: async ({ params, body, caller }) => {
        const who = person(caller);
        // The schema checked the body against the mode's shape: with a token, the token's; else the loopback one.
        const decided = who ? approvalFromToken(who, body as z.infer<typeof tokenApprovalBody>) : (body as z.infer<typeof approvalBody>);
        const plan = await s.decide(params.id, kind, { ...decided, stepId: params.stepId });
        return { status: 200, body: { id: params.id, plan } };
      },
    });
  const operator = (action: 'pause' | 'resume' | 'cancel' | 'falsePositive', path: string, summary: string) =>
    route({
      method: 'POST',
      path: `/v1/remediations/{id}/${path}`,
      operationId: action,
      summary,
      tags: ['remediations'],
      permission: 'operate',
      body: 'json',
      schema: { params: remediationParams, body: d.users ? tokenOperatorBody : operatorBody, response: { 202: accepted(action), 404: z.object({ error: z.string() }).describe('No such remediation') } },
      handler: async ({ params, body, caller }) => {
        const who = person(caller);
        await s.operator(params.id, action, who ? operatorFromToken(who, body as z.infer<typeof tokenOperatorBody>) : (body as z.infer<typeof operatorBody>), who);
        return { status: 202, body: { id: params.id, accepted: action } };
      },
    });

  return [
    route({
      method: 'GET',
      path: '/v1/remediations/{id}',
      operationId: 'getRemediation',
      summary: 'Current state: status, facts, plan, approvals, decision log (workflow query)',
      tags: ['remediations'],
      permission: 'read',
      schema: { params: remediationParams, response: { 200: remediationSchema.describe('The remediation'), 404: z.object({ error: z.string() }).describe('No such remediation') } },
      handler: async ({ params }) => {
        const v = await s.state(params.id);
        const { paused: _p, decisionsDropped: _d, ...view } = v;
        return { status: 200, body: { ...view, plan: { version: v.plan.version, policyVersion: v.plan.policyVersion, playbook: v.plan.playbook, steps: v.plan.steps } } };
      },
    }),
    route({
      method: 'POST',
      path: '/v1/remediations/{id}/risk',
      operationId: 'changeRisk',
      summary: 'Change the risk score (signal riskScoreChanged): the plan is re-built',
      tags: ['remediations'],
      permission: 'operate',
      body: 'json',
      schema: { params: remediationParams, body: riskBody, response: { 202: accepted('riskScoreChanged'), 404: z.object({ error: z.string() }).describe('No such remediation') } },
      handler: async ({ params, body, caller }) => {
        const who = person(caller);
        await s.changeRisk(params.id, who ? riskFromToken(who, body) : { ...body, by: body.by ?? d.defaultIdentity }, who);
        return { status: 202, body: { id: params.id, accepted: 'riskScoreChanged' } };
      },
    }),
    decision('approve'),
    decision('deny'),
    operator('pause', 'pause', 'Pause: no new step starts until resumed'),
    operator('resume', 'resume', 'Resume a paused remediation'),
    operator('cancel', 'cancel', 'Cancel: completed steps with a compensation are undone'),
    operator('falsePositive', 'false-positive', 'Mark a false positive: compensate and close as resolved'),
  ];
}
