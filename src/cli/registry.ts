import type { CliCommand } from './command.js';

/** Commands load lazily so `moa-otel ls` never pays for the MoA client or the OTLP exporter. */
export const COMMANDS: Record<string, () => Promise<CliCommand>> = {
  demo: async () => (await import('./commands/demo.js')).default,
  ask: async () => (await import('./commands/ask.js')).default,
  serve: async () => (await import('./commands/serve.js')).default,
  ls: async () => (await import('./commands/ls.js')).default,
  show: async () => (await import('./commands/show.js')).default,
  stats: async () => (await import('./commands/stats.js')).default,
  insights: async () => (await import('./commands/insights.js')).default,
  validate: async () => (await import('./commands/validate.js')).default,
  export: async () => (await import('./commands/export.js')).default,
  report: async () => (await import('./commands/report.js')).default,
  tail: async () => (await import('./commands/tail.js')).default,
  prune: async () => (await import('./commands/prune.js')).default,
  expand: async () => (await import('./commands/expand.js')).default,
};
