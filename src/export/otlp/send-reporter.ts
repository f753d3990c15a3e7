/**
 * What an OTLP exporter says about its requests, for any signal: each kind
 * of failure once (the rest counted), once more when requests work again,
 * and the receiver's partial-success rejections once.
 */
import { CauseReporter } from '../../base/cause-reporter.js';

const PARTIAL_SUCCESS = 'partial success';

export interface SendReporterOptions {
  /** The URL as it may be shown (`displayUrl`). */
  target: string;
  /** "OTLP export", "OTLP metrics export": how the messages name the export. */
  exportName: string;
  /** What a request carries, singular and plural: ['span', 'spans']. */
  items: readonly [one: string, many: string];
  log: (message: string) => void;
}

export class SendReporter {
  private readonly reporter: CauseReporter;

  constructor(private readonly options: SendReporterOptions) {
    this.reporter = new CauseReporter(options.log);
  }

  /** A request that failed: `consequence` says what it cost ("2 spans lost. Turns go on"). Logged the first time for its cause. */
  failed(cause: string, reason: string, consequence: () => string): void {
    const { exportName, target } = this.options;
    this.reporter.fail(cause, () => `moa-otel: ${exportName} to ${target} failed: ${reason}; ${consequence()}; `
      + 'further failures of this kind are counted and reported when exports work again.');
  }

  /** A request the receiver took: failures so far are reported as over, rejections (partial success) once. */
  succeeded(rejected: number, rejectionMessage: string): void {
    const { exportName, target } = this.options;
    for (const cause of this.reporter.failing) {
      if (cause === PARTIAL_SUCCESS) continue;
      this.reporter.recover(cause, (failures) => `moa-otel: ${exportName} to ${target} works again after ${failures} failed request${failures === 1 ? '' : 's'} (${cause})`);
    }
    if (rejected === 0 && rejectionMessage === '') return;
    this.reporter.fail(PARTIAL_SUCCESS, () => `moa-otel: the OTLP receiver at ${target} rejected ${this.count(rejected)}`
      + `${rejectionMessage !== '' ? `: ${rejectionMessage}` : ''} (further rejections are counted, not repeated)`);
  }

  /** "1 span", "3 data points". */
  count(items: number): string {
    return `${items} ${this.options.items[items === 1 ? 0 : 1]}`;
  }
}
