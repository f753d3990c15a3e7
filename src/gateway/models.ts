/**
 * Presets as models. `GET /v1/models` lists `moa/<preset>` for every preset
 * and `moa` for the default one; a request may name a preset either way, or
 * by its bare name. Anything else is an unknown model (404), never silently
 * the default preset: a typo must not spend money on the wrong models.
 */
import { DEFAULT_PRESET_MODEL, type MoaClient } from '../client/client.js';
import { describeFailure, firstLine } from '../base/errors.js';
import { GatewayError } from './openai-error.js';

export const PRESET_MODEL_PREFIX = `${DEFAULT_PRESET_MODEL}/`;

export interface ModelEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

export interface PresetProblem {
  preset: string;
  reason: string;
  /** Set when only this reference of the preset will fail: the preset still runs. */
  reference?: string;
}

export class ModelCatalog {
  readonly #models = new Map<string, string>();
  readonly #created = Math.floor(Date.now() / 1000);

  constructor(client: MoaClient) {
    if (hasDefaultPreset(client)) this.#models.set(DEFAULT_PRESET_MODEL, DEFAULT_PRESET_MODEL);
    for (const preset of Object.keys(client.config.presets)) this.#models.set(`${PRESET_MODEL_PREFIX}${preset}`, preset);
  }

  list(): ModelEntry[] {
    return [...this.#models.keys()].map((id) => this.entry(id));
  }

  entry(id: string): ModelEntry {
    return { id, object: 'model', created: this.#created, owned_by: 'moa-otel' };
  }

  /** The `model` the MoA client gets for a requested model id; 404 when it names no preset. */
  resolve(requested: string): string {
    const preset = this.#models.get(requested) ?? (this.#models.has(`${PRESET_MODEL_PREFIX}${requested}`) ? requested : undefined);
    if (preset !== undefined) return preset;
    throw new GatewayError(404, `The model \`${requested}\` does not exist: this MoA gateway serves ${[...this.#models.keys()].join(', ') || 'no models (no presets configured)'}`, { code: 'model_not_found', param: 'model' });
  }
}

function hasDefaultPreset(client: MoaClient): boolean {
  try {
    client.resolvePreset(DEFAULT_PRESET_MODEL);
    return true;
  } catch {
    return false;
  }
}

/**
 * Presets that cannot run (the aggregator's key missing, an unknown
 * provider, a slot that points back at the gateway), with the reason; and,
 * as `reference`, the references of runnable presets that will fail (their
 * turns go on without them).
 */
export function presetProblems(client: MoaClient): PresetProblem[] {
  return Object.keys(client.config.presets).flatMap((preset): PresetProblem[] => {
    try {
      return client.preflight(preset).unusableReferences.map(({ label, reason }) => ({ preset, reason: firstLine(reason), reference: label }));
    } catch (err) {
      return [{ preset, reason: firstLine(describeFailure(err)) }];
    }
  });
}
