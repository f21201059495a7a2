// @ts-check
/* global process, module */
// A jest reporter, in JavaScript because jest loads reporters with a plain require() (no ts-jest).
//
// Tests that need a missing system binary are skipped with "(not run: <reason>; <install>)" at
// the end of their describe title (see describeNeeding in system-binary.ts). This prints one line
// per reason after the summary, so a run that left tests out says so where it is read.

const NOT_RUN = / \(not run: (.+); (.+)\)$/;

class NotRunReporter {
  /**
   * @param {unknown} _contexts
   * @param {{ testResults: { testResults: { status: string, ancestorTitles: string[] }[] }[] }} results
   */
  onRunComplete(_contexts, results) {
    /** @type {Map<string, number>} */
    const counts = new Map();
    for (const file of results.testResults) {
      for (const test of file.testResults) {
        if (test.status !== 'pending') continue;
        for (const title of test.ancestorTitles) {
          const match = NOT_RUN.exec(title);
          if (match === null) continue;
          const key = `${match[1]}\t${match[2]}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
          break;
        }
      }
    }
    for (const [key, count] of counts) {
      const [reason, install] = key.split('\t');
      const tests = count === 1 ? 'test' : 'tests';
      process.stderr.write(
        `[durin-test] ${reason}: ${count} ${tests} not run (${install}); ` +
          'they are required when CI=true\n',
      );
    }
  }
}

module.exports = NotRunReporter;
