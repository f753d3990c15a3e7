/**
 * docs/nodesdk.md run for real: an app started through the OpenTelemetry
 * NodeSDK on each line (2.x / sdk-node 0.223 on Node 20, 3.x / sdk-node
 * 0.301 on Node 24), its exporter configured by OTEL_EXPORTER_OTLP_ENDPOINT
 * only, sending to a real OTLP receiver. With the app's own exporter listed
 * next to createMoaSpanProcessors(), the app's and moa-otel's spans arrive in
 * one trace and the JSONL lines are written; with moa-otel's processors
 * alone, NodeSDK exports nothing at all (the warning the page gives), where
 * without spanProcessors its env-configured exporter ships the app's spans.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';
import type { AppName, NodeMajor } from './support/apps.js';
import { cleanEnv, run, scenarioResult } from './support/run.js';

interface NodeSdkOutput {
  request: { traceId: string };
  records: Record<'via-instrumentation' | 'via-sugar', { trace_id?: string; aggregator: { output: string | null } }[]>;
}

const LINES: { line: '2' | '3'; app: AppName; node: NodeMajor }[] = [
  { line: '2', app: 'nodesdk2', node: 20 },
  { line: '3', app: 'nodesdk3', node: 24 },
];

for (const { line, app: appName, node } of LINES) {
  describe(`NodeSDK on OpenTelemetry ${line}.x, Node ${node}`, () => {
    async function runApp(mode: 'with-exporter' | 'moa-alone' | 'no-processors') {
      const app = inject('consumerApps')[appName];
      // Installed without conflicts; the one install script npm flags is protobufjs's (the OTLP exporter's), never moa-otel's.
      expect(app.install.code, app.install.stderr).toBe(0);
      expect(app.install.stderr).not.toMatch(/ERESOLVE|moa-otel.*(prepare|postinstall)/);
      const receiver = await startOtlpReceiver();
      try {
        const env = cleanEnv({
          MOA_HOME: path.join(app.dir, 'home'),
          SCENARIO_TRACE_DIR: mkdtempSync(path.join(app.dir, 'traces-')),
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        });
        const child = await run(inject('consumerNodes')[`${node}`], ['nodesdk-app.mjs', line, mode], { cwd: app.dir, env });
        expect(child.code, child.stderr).toBe(0);
        return { output: scenarioResult<NodeSdkOutput>(child), spans: receiver.spans() };
      } finally {
        await receiver.close();
      }
    }

    it("with the app's own exporter: its spans and moa-otel's arrive in one trace, and both turns are in the files", async () => {
      const { output, spans } = await runApp('with-exporter');
      const names = spans.map((s) => s.name);
      expect(names).toContain('app-request');
      expect(names.filter((n) => n.startsWith('invoke_workflow moa'))).toHaveLength(2);
      expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([output.request.traceId]));
      for (const records of Object.values(output.records)) {
        expect(records).toHaveLength(1);
        expect(records[0]?.trace_id).toBe(output.request.traceId);
        expect(records[0]?.aggregator.output).toBe('Final answer');
      }
    });

    it('without spanProcessors, NodeSDK exports through its env-configured exporter (the baseline the next case loses)', async () => {
      const { output, spans } = await runApp('no-processors');
      expect(spans.map((s) => s.name)).toContain('app-request');
      expect(output.records['via-instrumentation']).toEqual([]);
    });

    it("with moa-otel's processors alone: the files are written, but NodeSDK exports nothing, the app's spans included", async () => {
      const { output, spans } = await runApp('moa-alone');
      expect(spans).toEqual([]);
      expect(output.records['via-instrumentation']).toHaveLength(1);
      expect(output.records['via-sugar']).toHaveLength(1);
    });
  });
}
