// Versions Harrier reports: its own, and the Falco engine and plugin levels it implements.

import { ENGINE_VERSION } from '@harrier/rules';

export const HARRIER_VERSION = '0.1.0';

export function versionText(json: boolean): string {
  if (json) return JSON.stringify({ harrier_version: HARRIER_VERSION, engine_version: ENGINE_VERSION }) + '\n';
  return `Harrier version: ${HARRIER_VERSION}\nEngine version: ${ENGINE_VERSION} (Falco 0.44 rules language)\n`;
}
