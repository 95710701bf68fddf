import { selectPlaybook } from '../../planner/match';
import type { Playbook } from '../../planner/policy-schema';
import type { Facts } from '../../planner/types';

/** The planner's playbook choice as the remediation workflow makes it: inside the workflow sandbox. */
export async function choosePlaybook(playbooks: Playbook[], facts: Facts): Promise<string | null> {
  return selectPlaybook(playbooks, facts)?.playbook.id ?? null;
}
