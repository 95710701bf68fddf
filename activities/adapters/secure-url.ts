/**
 * Vendor URLs carry client secrets, tokens or (for incoming webhooks) are secrets themselves:
 * they must not cross a network in clear text. Plain http is allowed on loopback only, where
 * the simulators listen.
 */
export function isLoopbackHost(hostname: string): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(hostname);
}

export function isHttpsOrLoopback(value: string): boolean {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return false;
  }
  return u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackHost(u.hostname));
}
