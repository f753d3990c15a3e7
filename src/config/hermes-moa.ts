/**
 * The `moa:` section of the shared `config.yaml` read the way the original
 * agent's normaliser reads it. That normaliser never refuses a value: a
 * hand-edited config degrades to defaults instead of stopping the agent. So
 * a file the agent runs must run here too: each value it would repair is
 * repaired the same way, and the repair is named in one notice per key
 * (what was written, what is assumed). Values it accepts as they are pass
 * through untouched for the schema, which still refuses what neither accepts.
 *
 * Only the config file gets this treatment; options from code keep strict
 * validation (a typo there is the caller's to fix).
 */

/** The original's preset when the file names no usable slots (its documented default preset). */
export const HERMES_DEFAULT_REFERENCES: readonly { provider: string; model: string }[] = [
  { provider: 'openai-codex', model: 'gpt-5.5' },
  { provider: 'openrouter', model: 'deepseek/deepseek-v4-pro' },
];
export const HERMES_DEFAULT_AGGREGATOR = { provider: 'openrouter', model: 'anthropic/claude-opus-4.8' } as const;

const TOOL_RESULT_BUDGET = { fallback: 4000, min: 1000, max: 32000 } as const;
const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);

type Mapping = Record<string, unknown>;

export interface NormalizedSection {
  section: Mapping;
  /** One line per repaired key: `moa.<path>: <what was assumed>`. */
  notices: string[];
}

export function normalizeHermesMoaSection(input: Mapping): NormalizedSection {
  const notices: string[] = [];
  const note = (path: string, text: string) => notices.push(`moa.${path}: ${text}`);
  const section: Mapping = { ...input };

  if (section.presets !== undefined && section.presets !== null && !isMapping(section.presets)) {
    note('presets', `${describe(section.presets)} is not a mapping of named presets; ignored, as the original does`);
    delete section.presets;
  }
  if (isMapping(section.presets)) {
    const presets: Mapping = {};
    for (const [rawName, raw] of Object.entries(section.presets)) {
      const name = rawName.trim();
      if (name === '') {
        note('presets', 'a preset with an empty name is dropped, as the original does');
        continue;
      }
      presets[name] = normalizePreset(raw, `presets.${name}`, note);
    }
    section.presets = presets;
    const names = Object.keys(presets);
    pickNamedPreset(section, 'default_preset', names, note);
    pickNamedPreset(section, 'active_preset', names, note);
  }
  if (section.fanout !== undefined) section.fanout = coerceFanout(section.fanout, 'fanout', note);
  if (section.privacy_filter !== undefined) section.privacy_filter = coercePrivacyFilter(section.privacy_filter, note);
  return { section, notices };
}

type Note = (path: string, text: string) => void;

function normalizePreset(raw: unknown, at: string, note: Note): Mapping {
  if (!isMapping(raw)) {
    note(at, `${describe(raw)} is not a preset mapping; the original's default preset values are used`);
    raw = {};
  }
  const preset: Mapping = { ...(raw as Mapping) };
  // moa-otel's own name for the list, when written instead of the original's.
  const listKey = preset.reference_models === undefined && preset.references !== undefined ? 'references' : 'reference_models';
  // Everything said about the list is one line: one notice per key.
  const listNotes: string[] = [];
  const say = (text: string) => listNotes.push(text);
  const slots = referenceSlots(preset[listKey], say)
    .map((slot, i) => cleanSlot(slot, `${at}.${listKey}[${i}]`, note, (text) => say(`slot ${i + 1}: ${text}`)))
    .filter((slot): slot is Mapping => slot !== null);
  if (slots.length === 0) {
    say(`no complete reference slot; the original's default references are used (${HERMES_DEFAULT_REFERENCES.map((s) => `${s.provider}:${s.model}`).join(', ')})`);
    slots.push(...HERMES_DEFAULT_REFERENCES.map((s) => ({ ...s })));
  }
  if (listNotes.length > 0) note(`${at}.${listKey}`, listNotes.join('; '));
  preset[listKey] = slots;

  const aggregator = preset.aggregator === undefined ? null : cleanSlot(preset.aggregator, `${at}.aggregator`, note);
  if (aggregator === null) {
    note(`${at}.aggregator`, `${preset.aggregator === undefined ? 'missing' : 'incomplete'}; the original's default aggregator is used (${HERMES_DEFAULT_AGGREGATOR.provider}:${HERMES_DEFAULT_AGGREGATOR.model})`);
  }
  preset.aggregator = aggregator ?? { ...HERMES_DEFAULT_AGGREGATOR };

  if (preset.enabled !== undefined) preset.enabled = coerceBool(preset.enabled, true, `${at}.enabled`, note);
  for (const key of ['reference_temperature', 'aggregator_temperature']) {
    if (preset[key] !== undefined) preset[key] = coerceNumber(preset[key], `${at}.${key}`, 'the provider default applies (no temperature is sent)', note);
  }
  if (preset.reference_timeout !== undefined) preset.reference_timeout = coerceTimeout(preset.reference_timeout, `${at}.reference_timeout`, note);
  if (preset.reference_tool_result_budget !== undefined) {
    preset.reference_tool_result_budget = coerceBudget(preset.reference_tool_result_budget, `${at}.reference_tool_result_budget`, note);
  }
  if (preset.fanout !== undefined) preset.fanout = coerceFanout(preset.fanout, `${at}.fanout`, note);
  return preset;
}

/** `reference_models` as a list: a JSON string is decoded, one mapping is one slot, anything else is none. */
function referenceSlots(raw: unknown, say: (text: string) => void): unknown[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw === 'string') {
    try {
      const decoded: unknown = JSON.parse(raw);
      say('written as a JSON string; read as the JSON it holds, as the original does');
      raw = decoded;
    } catch {
      say('a string that is not JSON; no slots read from it, as the original does');
      return [];
    }
  }
  if (Array.isArray(raw)) return raw;
  if (isMapping(raw)) return [raw];
  say(`${describe(raw)} is not a list of slots; no slots read from it, as the original does`);
  return [];
}

/**
 * A slot with a provider and a model (trimmed text), else null: the original
 * drops incomplete slots (`say` is told why, for a reference).
 */
function cleanSlot(raw: unknown, at: string, note: Note, say?: (text: string) => void): Mapping | null {
  if (!isMapping(raw)) {
    say?.(`${describe(raw)} is not a {provider, model} mapping; dropped, as the original does`);
    return null;
  }
  const provider = text(raw.provider);
  const model = text(raw.model);
  if (provider === '' || model === '') {
    say?.(`no ${provider === '' ? 'provider' : 'model'}; dropped, as the original does`);
    return null;
  }
  const slot: Mapping = { ...raw, provider, model };
  if (slot.enabled !== undefined) slot.enabled = coerceBool(slot.enabled, true, `${at}.enabled`, note);
  return slot;
}

function pickNamedPreset(section: Mapping, key: 'default_preset' | 'active_preset', names: readonly string[], note: Note): void {
  const value = section[key];
  if (value === undefined || value === null) return;
  const name = text(value);
  if (name === '' || names.includes(name)) {
    section[key] = name;
    return;
  }
  if (key === 'default_preset') {
    const first = names[0];
    note(key, `"${name}" is not a configured preset; ${first === undefined ? 'there are none' : `the first preset, "${first}", is the default`}, as the original does`);
    if (first === undefined) delete section[key];
    else section[key] = first;
  } else {
    note(key, `"${name}" is not a configured preset; no active preset, as the original does`);
    section[key] = '';
  }
}

function coerceBool(value: unknown, fallback: boolean, at: string, note: Note): unknown {
  if (value === null) return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.has(word) || FALSE_WORDS.has(word)) return value;
    note(at, `"${value}" is neither true nor false; ${fallback} is assumed, as the original does`);
    return fallback;
  }
  if (typeof value === 'number') return value;
  const truthy = Array.isArray(value) ? value.length > 0 : isMapping(value) ? Object.keys(value).length > 0 : Boolean(value);
  note(at, `${describe(value)} is read as ${truthy}, as the original does`);
  return truthy;
}

/** A number, as text or not; anything else is unset. */
function coerceNumber(value: unknown, at: string, unset: string, note: Note): unknown {
  if (value === null || value === '') return undefined;
  if (typeof value === 'boolean') {
    note(at, `${value} is read as ${Number(value)}, as the original does`);
    return Number(value);
  }
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
  if (typeof value === 'string' && value.trim() === '') return undefined;
  if (Number.isNaN(number)) {
    note(at, `${describe(value)} is not a number; ${unset}, as the original does`);
    return undefined;
  }
  return value;
}

/** Seconds; a value that is not a positive finite number means "inherit the default timeout". */
function coerceTimeout(value: unknown, at: string, note: Note): unknown {
  if (value === null || value === '') return undefined;
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
  if (typeof value !== 'boolean' && Number.isFinite(number) && number > 0) return value;
  note(at, `${describe(value)} means "inherit": reference_timeout_ms applies, as the original inherits its default timeout`);
  return undefined;
}

/** Characters per tool result: truncated to an integer and clamped to [1000, 32000]; nonsense is 4000. */
function coerceBudget(value: unknown, at: string, note: Note): unknown {
  let number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value.trim()) : Number.NaN;
  if (typeof value === 'boolean' || Number.isNaN(number) || number <= 0) number = TOOL_RESULT_BUDGET.fallback;
  else if (number >= TOOL_RESULT_BUDGET.max) number = TOOL_RESULT_BUDGET.max;
  else number = Math.max(TOOL_RESULT_BUDGET.min, Math.trunc(number) || TOOL_RESULT_BUDGET.fallback);
  if (number !== value) note(at, `${describe(value)} is read as ${number} (the original's limits: ${TOOL_RESULT_BUDGET.min} to ${TOOL_RESULT_BUDGET.max}, default ${TOOL_RESULT_BUDGET.fallback})`);
  return number;
}

/** `per_iteration`, `user_turn` or `every_n:N` (N ≥ 2); `every_n:1` is every iteration; anything else is `user_turn`. */
function coerceFanout(value: unknown, at: string, note: Note): string {
  let mode: string;
  if (isMapping(value)) {
    const kind = text(value.mode).toLowerCase();
    mode = kind === 'every_n' ? everyN(value.n) : kind;
  } else {
    mode = text(value).toLowerCase();
  }
  let result: string;
  if (mode === 'per_iteration' || mode === 'user_turn') result = mode;
  else if (mode.startsWith('every_n')) {
    const [, sep, rest] = /^every_n(:?)(.*)$/.exec(mode) ?? [];
    result = everyN(sep ? rest : undefined);
  } else result = 'user_turn';
  const canonical = typeof value === 'string' && value === result;
  const mappingForm = isMapping(value) && (result === `every_n:${String(value.n)}` || result === text(value.mode));
  if (!canonical && !mappingForm) note(at, `${describe(value)} is read as ${result}, as the original does`);
  return result;
}

function everyN(raw: unknown): string {
  const n = typeof raw === 'number' ? Math.trunc(raw) : typeof raw === 'string' && raw.trim() !== '' ? Math.trunc(Number(raw.trim())) : 0;
  if (Number.isNaN(n)) return 'user_turn';
  return n >= 2 ? `every_n:${n}` : n === 1 ? 'per_iteration' : 'user_turn';
}

/** Off (''), `display` or `full`; `true` and its words are `full`; anything unknown is off. */
function coercePrivacyFilter(value: unknown, note: Note): unknown {
  if (value === true || value === false || value === null) return value;
  const mode = String(value).trim().toLowerCase();
  if (['', 'display', 'full', 'off', 'false', 'no', '0', 'none', 'true', 'on', 'yes', '1'].includes(mode)) return value;
  note('privacy_filter', `${describe(value)} is not a filter mode; the filter is off, as the original does`);
  return '';
}

function text(value: unknown): string {
  return value === undefined || value === null ? '' : String(value).trim();
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'a list';
  if (isMapping(value)) return 'a mapping';
  return String(value);
}

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
