import { Redactor } from './src/content/redact.js';
import { BUILTIN_PATTERNS, EMAIL_PATTERN } from './src/content/secret-patterns.js';
import { ADVERSARIAL_CELLS, adversarialText } from './bench/redaction-inputs.js';
const MB = 1 << 20;
const huge = ['sk-ant-', 'ghp_' , 'github_pat_', 'xoxb-', 'Bearer ', 'Basic ', 'Authorization: Basic ', '-----BEGIN PRIVATE KEY-----\n', 'a@', 'http://u:'];
for (const p of [...BUILTIN_PATTERNS, EMAIL_PATTERN]) {
  const r = Redactor.fromPatterns([p.regex]);
  for (const prefix of huge) for (const fill of ['a', ' ', 'A1', '\\n']) {
    const text = prefix + fill.repeat(16 * MB / fill.length);
    try { r.text(text); } catch (e: any) { console.log('THROWS', p.name, JSON.stringify(prefix), JSON.stringify(fill), e.message); }
  }
  for (const cells of [...ADVERSARIAL_CELLS[p.name]!.map((c) => [c]), ADVERSARIAL_CELLS[p.name]!]) {
    try { r.text(adversarialText(cells, 16 * MB)); } catch (e: any) { console.log('THROWS', p.name, JSON.stringify(cells[0]), e.message); }
  }
}
console.log('done');
