/** What each manifest format's bumper answers for one file. */
export interface ManifestBump {
  /** The new content (identical to the input when nothing changes). */
  content: string;
  /** Whether the package is declared in this manifest at all. */
  found: boolean;
  /** Markdown bullet lines: what changed, or why a declaration was left alone. */
  notes: string[];
}

export type ManifestBumper = (path: string, content: string, pkg: string, fixedVersion: string) => ManifestBump;
