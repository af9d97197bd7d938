// Sums the JSON reports of every suite into the closing line CI is judged by.
import fs from "node:fs";
import path from "node:path";

const dir = process.argv[2];
let passed = 0;
let failed = 0;
const read = (name) => {
  const file = path.join(dir, name);
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : undefined;
};
for (const name of ["unit.json", "db.json"]) {
  const report = read(name);
  if (!report) {
    console.log(`${name}: missing (the suite did not run)`);
    failed++;
    continue;
  }
  console.log(
    `${name}: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests + report.numTodoTests} skipped`,
  );
  passed += report.numPassedTests;
  failed += report.numFailedTests;
}
const e2e = read("e2e.json");
if (!e2e) {
  console.log("e2e.json: missing (the browser suite did not run)");
  failed++;
} else {
  const { expected = 0, unexpected = 0, flaky = 0, skipped = 0 } = e2e.stats ?? {};
  console.log(
    `e2e.json: ${expected} passed, ${unexpected + flaky} failed (flaky counts as failed), ${skipped} skipped`,
  );
  passed += expected;
  failed += unexpected + flaky;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
