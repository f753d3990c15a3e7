/**
 * Reading the collector's Prometheus exporter the way a Prometheus server
 * does: GET /metrics, then the text exposition format parsed into samples.
 * Only what the tests read is parsed: `# TYPE` lines and
 * `name{label="value",...} number` samples (no timestamps: the exporter sends
 * none by default).
 */

export interface PrometheusSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PrometheusScrape {
  samples: PrometheusSample[];
  /** `# TYPE` of each metric family: counter, histogram, gauge, ... */
  types: Map<string, string>;
  contentType: string;
}

export async function scrapePrometheus(url: string): Promise<PrometheusScrape> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return { ...parsePrometheusText(await response.text()), contentType: response.headers.get('content-type') ?? '' };
}

export function parsePrometheusText(text: string): Omit<PrometheusScrape, 'contentType'> {
  const samples: PrometheusSample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice('# TYPE '.length).split(' ');
      if (name && type) types.set(name, type);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const sample = parseSample(line);
    if (!sample) throw new Error(`not a Prometheus sample line: ${line}`);
    samples.push(sample);
  }
  return { samples, types };
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/;

function parseSample(line: string): PrometheusSample | undefined {
  const name = line.match(NAME)?.[0];
  if (!name) return undefined;
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    while (!rest.startsWith('}')) {
      const label = rest.match(LABEL);
      if (!label?.[1] || label[2] === undefined) return undefined;
      labels[label[1]] = label[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(label[0].length).replace(/^,/, '');
    }
    rest = rest.slice(1);
  }
  const [value] = rest.trim().split(' ');
  if (value === undefined || value === '') return undefined;
  return { name, labels, value: Number(value) };
}

/** The samples of `name` whose labels include every one of `labels`. */
export function samplesOf(scrape: Pick<PrometheusScrape, 'samples'>, name: string, labels: Record<string, string> = {}): PrometheusSample[] {
  return scrape.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}
