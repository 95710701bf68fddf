/** The out-of-the-box incident state model (choice values of incident.state). */
export const INCIDENT_STATES: Readonly<Record<string, string>> = { '1': 'New', '2': 'In Progress', '3': 'On Hold', '6': 'Resolved', '7': 'Closed', '8': 'Canceled' };

/** Resolved, Closed, Canceled. */
export const CLOSED_STATES: ReadonlySet<string> = new Set(['6', '7', '8']);
export const RESOLVED = '6';
export const IN_PROGRESS = '2';
