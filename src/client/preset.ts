/** What of a preset runs. */
import type { ModelSlotConfig, PresetConfig } from '../config/schema.js';

/** The references that run: none for a disabled preset (the aggregator acts alone), else the enabled ones. */
export function activeReferences(preset: PresetConfig): ModelSlotConfig[] {
  return preset.enabled ? preset.references.filter((slot) => slot.enabled) : [];
}
