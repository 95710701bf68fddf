/**
 * What the worker's reusable V8 context evaluates once and shares between workflow runs
 * (workers/workflow-bundle.ts, the SDK's `bundlerOptions.preloadModules`): the pure modules the
 * workflows import — the decision core and planner, the schemas, the message definitions —
 * none of which keeps per-run state or calls the workflow API at import time.
 *
 * The SDK deep-freezes shared modules. Every module here that exports zod schemas is walked
 * first (common/materialize.ts), so a frozen schema still parses; a module that exports schemas
 * and is shared must be listed.
 */
import * as z from 'zod';
import { materialize } from '../common/materialize';
import * as detection from '../domain/detection';
import * as assertion from '../governance/assertion';
import * as sourceRef from '../ingest/source-ref';
import * as policySchema from '../planner/policy-schema';
import * as core from '../remediation/core';
import * as messages from '../signals/messages';
import * as searchAttributes from '../signals/search-attributes';
import * as memo from './memo';
import * as legacyState from './legacy/state';

export const SHARED = { z, detection, assertion, sourceRef, policySchema, core, messages, searchAttributes, memo, legacyState };
materialize(SHARED);
