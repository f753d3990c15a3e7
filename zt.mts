import { Redactor } from './src/content/redact.js';
import { BUILTIN_PATTERNS, EMAIL_PATTERN } from './src/content/secret-patterns.js';
import { ADVERSARIAL_CELLS, adversarialText } from './bench/redaction-inputs.js';
const MB = 1 << 20;
function time(r: Redactor, text: string) { let best = Infinity; for (let i = 0; i < 5; i++) { const t = performance.now(); r.text(text); best = Math.min(best, performance.now() - t); } return best; }
for (const p of [...BUILTIN_PATTERNS, EMAIL_PATTERN]) {
  const r = Redactor.fromPatterns([p.regex]);
  const cellsets = [...ADVERSARIAL_CELLS[p.name]!.map((c) => [c]), ADVERSARIAL_CELLS[p.name]!];
  for (const cells of cellsets) {
    const t = [1, 2, 4].map((m) => time(r, adversarialText(cells, m * MB)));
    console.log(p.name.padEnd(34), JSON.stringify(cells.length > 1 ? 'mixed' : cells[0]!.slice(0, 30)).padEnd(36), t.map((x) => x.toFixed(1)).join(' '), (t[1]! / t[0]!).toFixed(2), (t[2]! / t[1]!).toFixed(2));
  }
}
