import type { AxiosInstance } from 'axios';
import { ApplicationFailure } from '@temporalio/common';

/** What the project's create screen allows, from Jira's create metadata. */
export interface CreateScreen {
  issueTypeId: string;
  /** False when the screen has no Priority field: Jira refuses the field ("cannot be set"). */
  priority: boolean;
}

const PAGE = 50;

/** The create screen, read once; forget() makes the next call read it again (an admin changed it). */
export type ScreenReader = (() => Promise<CreateScreen>) & { forget(): void };

/**
 * Reads GET /rest/api/3/issue/createmeta/{project}/issuetypes[/{id}] once per adapter: the
 * fields a create may set differ per project and issue type, and a field that is not on the
 * screen makes the whole create fail with a 400.
 */
export function createScreenReader(http: AxiosInstance, projectKey: string, issueType: string): ScreenReader {
  let cached: Promise<CreateScreen> | undefined;
  const base = `/rest/api/3/issue/createmeta/${encodeURIComponent(projectKey)}/issuetypes`;

  async function pages<T>(url: string, key: string): Promise<T[]> {
    const out: T[] = [];
    for (let startAt = 0; ; ) {
      const { data } = await http.get(url, { params: { startAt, maxResults: PAGE } });
      const items = Array.isArray(data?.[key]) ? (data[key] as T[]) : [];
      out.push(...items);
      startAt += items.length;
      if (items.length === 0 || startAt >= Number(data?.total ?? 0)) return out;
    }
  }

  async function read(): Promise<CreateScreen> {
    const types = await pages<{ id?: string; name?: string }>(base, 'issueTypes');
    const type = types.find((t) => t.name?.toLowerCase() === issueType.toLowerCase());
    if (!type?.id) {
      throw ApplicationFailure.create({
        message: `jira: project ${projectKey} has no issue type "${issueType}" (available: ${types.map((t) => t.name).join(', ') || 'none'}); set JIRA_ISSUE_TYPE`,
        type: 'jira.BadConfiguration',
        nonRetryable: true,
      });
    }
    const fields = await pages<{ fieldId?: string; key?: string }>(`${base}/${encodeURIComponent(type.id)}`, 'fields');
    return { issueTypeId: type.id, priority: fields.some((f) => (f.fieldId ?? f.key) === 'priority') };
  }

  const screen = () => {
    cached ??= read().catch((err: unknown) => {
      cached = undefined;
      throw err;
    });
    return cached;
  };
  return Object.assign(screen, { forget: () => (cached = undefined) });
}
