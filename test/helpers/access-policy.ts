import { parseAccessPolicy } from '../../api/auth/access';
import { ConfigError } from '../../common/config';

/** The problems parsing an access.yaml text reports ([] when it is valid). */
export function accessProblems(text: string): string[] {
  try {
    parseAccessPolicy(text, 'access.yaml');
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
}
