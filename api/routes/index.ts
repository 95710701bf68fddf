/** Every route of drw's API but health and the OpenAPI document (api/server.ts adds those). */
import type { Client } from '@temporalio/client';
import type { Archive } from '../../audit';
import type { Logger } from '../../common/logger';
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from '../../ingest';
import type { DrwRoute } from '../route';
import type { RemediationService } from '../service';
import { detectionRoutes } from './detections';
import { ingestRoutes } from './ingest';
import { integrationRoutes } from './integrations';
import { listRoutes } from './list';
import { policyRoutes } from './policy';
import { remediationRoutes } from './remediations';
import { reportRoutes } from './reports';
import { slackRoutes } from './slack';
import type { AccessPolicy } from '../auth/access';
import type { SlackApprovals } from '../slack/config';

export interface RouteDeps {
  service: RemediationService;
  client: Client;
  logger: Logger;
  /** Person authentication is on: approval and operator bodies carry no identity. */
  users: boolean;
  archive?: Archive;
  /** Identity used when a request names none (embedded default, loopback only). */
  defaultIdentity?: string;
  /** What one ingest request may bring in (cfg.ingest); the defaults when not given. */
  ingestLimits?: IngestLimits;
  /** Approvals from Slack: its settings, the access policy its users are authorized by, and the pages' base URL. */
  slack?: { settings: SlackApprovals; access: AccessPolicy; publicUrl: string };
}

export function apiRoutes(d: RouteDeps): DrwRoute[] {
  return [
    ...detectionRoutes(d.service, d.defaultIdentity, d.ingestLimits ?? DEFAULT_INGEST_LIMITS),
    ...ingestRoutes({ service: d.service, logger: d.logger, limits: d.ingestLimits ?? DEFAULT_INGEST_LIMITS }),
    ...remediationRoutes({ service: d.service, users: d.users, defaultIdentity: d.defaultIdentity }),
    ...listRoutes(d.client),
    ...reportRoutes(d.client, d.archive),
    ...policyRoutes(d.service, d.defaultIdentity),
    ...integrationRoutes({ service: d.service, logger: d.logger }),
    ...(d.slack ? slackRoutes({ service: d.service, access: d.slack.access, slack: d.slack.settings, publicUrl: d.slack.publicUrl, logger: d.logger }) : []),
  ];
}
