// Ends every test run with the slowest tests (where a faster loop must start) and one plain line,
// "tests: N passed, N failed", which CI reads.
const SLOWEST = 15;

class SummaryReporter {
  constructor() {
    this.durations = [];
  }

  onTestResult(test, result) {
    const file = test.path.replace(`${process.cwd()}/`, '');
    for (const each of result.testResults)
      if (each.duration != null) this.durations.push({ ms: each.duration, name: `${file}: ${each.fullName}` });
  }

  onRunComplete(_contexts, results) {
    const slowest = this.durations.sort((a, b) => b.ms - a.ms).slice(0, SLOWEST);
    if (slowest.length > 0 && slowest[0].ms >= 1000) {
      process.stderr.write(`\nslowest tests:\n`);
      for (const { ms, name } of slowest) process.stderr.write(`${(ms / 1000).toFixed(1).padStart(7)} s  ${name}\n`);
    }
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    process.stderr.write(`\ntests: ${results.numPassedTests} passed, ${failed} failed\n`);
  }
}
module.exports = SummaryReporter;
