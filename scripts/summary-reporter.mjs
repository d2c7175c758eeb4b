// node:test reporter that prints one closing line, `N passed, N failed[, N skipped]`, which CI reads.
// With TEST_TOTALS=FILE it also appends the counts to FILE as a JSON line, so CI can sum
// several runs (the main suite and the fault tests: `node scripts/test.mjs --totals FILE`).
import { appendFileSync } from 'node:fs';

export default async function* summary(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for await (const event of source) {
    // Count leaf tests only (suites report too, with details.type === 'suite').
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data.details?.type === 'suite') continue;
    if (event.data.skip || event.data.todo) skipped += 1;
    else if (event.type === 'test:pass') passed += 1;
    else failed += 1;
  }
  if (process.env.TEST_TOTALS) {
    appendFileSync(process.env.TEST_TOTALS, JSON.stringify({ passed, failed, skipped }) + '\n');
  }
  yield `\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
}
