/** The rule that decides whether an EDR device is the asset a step names (activities/adapters/edr-target.ts). */
import { sameHost } from '../../../activities/adapters/edr-target';

test('a short name matches the full name it starts, in either order and in any ASCII case', () => {
  expect(sameHost('web-1', 'WEB-1.corp.example.com')).toBe(true);
  expect(sameHost('Web-1.Corp.Example.com.', 'web-1')).toBe(true);
  expect(sameHost('web-1.corp.example.com', 'web-1.corp.example.com.')).toBe(true);
});

test('two different full names, or a short name of another host, do not match', () => {
  expect(sameHost('web-1.corp.example.com', 'web-1.dmz.example.com')).toBe(false);
  expect(sameHost('web-1', 'web-10.corp.example.com')).toBe(false);
  expect(sameHost('web-1', 'dc-01')).toBe(false);
  expect(sameHost('corp', 'web-1.corp.example.com')).toBe(false);
});

test('look-alike letters and case folding outside ASCII make another host', () => {
  expect(sameHost('web-1', 'w\u0435b-1')).toBe(false);
  // The Kelvin sign lower-cases to "k" in JavaScript; it is still not the letter k.
  expect(sameHost('kiosk-1', '\u212Aiosk-1')).toBe(false);
});

test('an IP address matches only itself, never by its first octet', () => {
  expect(sameHost('10', '10.0.0.1')).toBe(false);
  expect(sameHost('10.0.0.1', '10.0.0.1')).toBe(true);
});

test('an empty name matches nothing', () => {
  expect(sameHost('', '')).toBe(false);
  expect(sameHost('web-1', ' ')).toBe(false);
});
