/**
 * moa-otel's OTLP export through the application's own official exporter
 * (`@opentelemetry/exporter-trace-otlp-proto` 0.223.x with OpenTelemetry 2.x
 * on Node 20, 0.301.x with 3.x on Node 24), configured by the standard
 * variables only: gzip checked at the receiver, and https to a receiver whose
 * certificate is signed by a CA made here with openssl and named in
 * OTEL_EXPORTER_OTLP_CERTIFICATE.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';
import type { AppName, InstalledApp, NodeMajor } from './support/apps.js';
import { expectCleanInstall } from './support/scenario-suite.js';
import { cleanEnv, run, scenarioResult } from './support/run.js';

interface WireOutput {
  lines: string[];
  stats: { exportedSpans: number; failedSpans: number; droppedSpans: number } | null;
  url: string | null;
}

const LINES: { app: AppName; node: NodeMajor; exporter: RegExp }[] = [
  { app: 'otel2', node: 20, exporter: /^0\.223\./ },
  { app: 'otel3', node: 24, exporter: /^0\.301\./ },
];

/** A CA and a localhost certificate it signed (SAN localhost and 127.0.0.1), made with openssl. */
function makeCertificates(): { dir: string; ca: string; key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'moa-otlp-ca-'));
  const at = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '2', '-subj', '/CN=moa-otel test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('server.key'), '-out', at('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(at('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  openssl('x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at('server.pem'), '-days', '2', '-extfile', at('san.ext'));
  return { dir, ca: at('ca.pem'), key: readFileSync(at('server.key'), 'utf8'), cert: readFileSync(at('server.pem'), 'utf8') };
}

for (const line of LINES) {
  describe(`${line.app} on Node ${line.node}: OTLP through the app's exporter-trace-otlp-proto`, () => {
    let app: InstalledApp;
    let nodeBin: string;
    beforeAll(() => {
      app = inject('consumerApps')[line.app];
      nodeBin = inject('consumerNodes')[`${line.node}`];
    });

    it('has the exporter line that fits its OpenTelemetry', () => {
      expectCleanInstall(app);
      const pkg = JSON.parse(readFileSync(path.join(app.dir, 'node_modules/@opentelemetry/exporter-trace-otlp-proto/package.json'), 'utf8')) as { version: string };
      expect(pkg.version).toMatch(line.exporter);
    });

    it('OTEL_EXPORTER_OTLP_COMPRESSION=gzip: gzip bodies at the receiver, all three spans', async () => {
      const receiver = await startOtlpReceiver();
      try {
        const env = cleanEnv({ MOA_HOME: path.join(app.dir, 'home'), OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_METRICS_EXPORTER: 'none' });
        const child = await run(nodeBin, ['otlp-wire.mjs'], { cwd: app.dir, env });
        const output = scenarioResult<WireOutput>(child);
        expect(output.lines).toEqual([]);
        expect(output.stats).toMatchObject({ exportedSpans: 3, failedSpans: 0 });
        expect(receiver.spans().map((s) => (s.name.startsWith('invoke_workflow moa') ? 'invoke_workflow moa' : s.name)).sort()).toEqual(['chat agg', 'chat ref-a', 'invoke_workflow moa']);
        expect(receiver.requests.length).toBeGreaterThan(0);
        // The receiver gunzipped every body it decoded.
        for (const request of receiver.requests) expect(request.headers['content-encoding']).toBe('gzip');
      } finally {
        await receiver.close();
      }
    });

    it('OTEL_EXPORTER_OTLP_CERTIFICATE: https to a receiver signed by a custom CA', async () => {
      const certs = makeCertificates();
      const receiver = await startOtlpReceiver({ tls: { key: certs.key, cert: certs.cert } });
      try {
        const base = cleanEnv({ MOA_HOME: path.join(app.dir, 'home'), OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_METRICS_EXPORTER: 'none' });
        const trusted = scenarioResult<WireOutput>(await run(nodeBin, ['otlp-wire.mjs'], { cwd: app.dir, env: { ...base, OTEL_EXPORTER_OTLP_CERTIFICATE: certs.ca } }));
        expect(trusted.stats).toMatchObject({ exportedSpans: 3, failedSpans: 0 });
        expect(receiver.spans()).toHaveLength(3);
        // Control: without the CA the same export is refused by TLS, so the variable is what made it work.
        const untrusted = scenarioResult<WireOutput>(await run(nodeBin, ['otlp-wire.mjs'], { cwd: app.dir, env: { ...base, OTEL_EXPORTER_OTLP_TIMEOUT: '2000' } }));
        expect(untrusted.stats?.exportedSpans).toBe(0);
        expect(receiver.spans()).toHaveLength(3);
      } finally {
        await receiver.close();
      }
    });
  });
}
