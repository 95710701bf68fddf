import type { AxiosInstance } from 'axios';
import { ApplicationFailure } from '@temporalio/common';
import type { ServiceNowConfig } from './config';
import { resultOf, text } from './client';
import { statusOf } from '../oauth-session';

/** A configured field that must exist on the instance, and where. */
interface Expected {
  variable: string;
  field: string;
  /** Which tables may carry it, for the message. */
  where: string;
  on: (table: string) => boolean;
}

const isCmdb = (t: string) => t === 'cmdb' || t.startsWith('cmdb_ci');
const isServiceOrAncestor = (t: string) => t === 'cmdb' || t === 'cmdb_ci' || t.startsWith('cmdb_ci_service');

/**
 * The Table API silently ignores fields a table does not have, so a mistyped or missing field
 * would leave criticality or exposure empty forever. The data dictionary (sys_dictionary, one
 * row per table and column) says whether each configured field exists where drw reads it;
 * the integration user needs read access to it.
 */
export async function checkCmdbFields(http: AxiosInstance, config: ServiceNowConfig): Promise<void> {
  const expected: Expected[] = [
    { variable: 'SERVICENOW_ENVIRONMENT_FIELD', field: config.environmentField, where: 'any CMDB class', on: isCmdb },
    { variable: 'SERVICENOW_INTERNET_FACING_FIELD', field: config.internetFacingField, where: 'any CMDB class', on: isCmdb },
    config.criticalityFrom === 'services'
      ? { variable: 'SERVICENOW_CRITICALITY_FIELD', field: config.criticalityField, where: 'cmdb_ci_service', on: isServiceOrAncestor }
      : { variable: 'SERVICENOW_CRITICALITY_FIELD', field: config.criticalityField, where: 'any CMDB class', on: isCmdb },
  ];
  const fields = [...new Set(expected.map((e) => e.field))];
  let rows: Record<string, unknown>[];
  try {
    const { data } = await http.get('/api/now/table/sys_dictionary', {
      params: {
        sysparm_query: `elementIN${fields.join(',')}^nameSTARTSWITHcmdb`,
        sysparm_fields: 'name,element',
        sysparm_limit: 1000,
      },
    });
    rows = resultOf<Record<string, unknown>[]>(data, 'sys_dictionary');
  } catch (err) {
    if (statusOf(err) === 403) {
      throw badConfiguration(`cannot read sys_dictionary to check the CMDB field settings (${(err as Error).message}); give the integration user read access to sys_dictionary`);
    }
    throw err;
  }
  const tablesOf = (field: string) => rows.filter((r) => text(r.element) === field).map((r) => text(r.name) ?? '');
  const missing = expected.filter((e) => !tablesOf(e.field).some(e.on));
  if (missing.length) {
    throw badConfiguration(missing.map((e) => `${e.variable}: "${e.field}" is not a field of ${e.where} on this instance`).join('; '));
  }
}

function badConfiguration(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message: `servicenow: ${message}`, type: 'servicenow.BadConfiguration', nonRetryable: true });
}
