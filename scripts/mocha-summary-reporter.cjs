// Mocha reporter for scripts/test.sh: the spec reporter's output, plus a JSON summary written to
// $EDGESPLIT_TEST_SUMMARY at the end: { passes, failures, pending: [{ title, reason }] }. A skipped test's reason is
// the one test/skip.ts recorded on the test or on an enclosing suite (skipped from a hook); null when none was given.
'use strict';
const { writeFileSync } = require('node:fs');
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const pending = [];
    let passes = 0;
    let failures = 0;
    runner.on(Mocha.Runner.constants.EVENT_TEST_PASS, () => { passes++; });
    runner.on(Mocha.Runner.constants.EVENT_TEST_FAIL, () => { failures++; });
    runner.on(Mocha.Runner.constants.EVENT_TEST_PENDING, (test) => {
      let reason = test.skipReason ?? null;
      for (let s = test.parent; reason === null && s; s = s.parent) reason = s.skipReason ?? null;
      pending.push({ title: test.fullTitle(), reason });
    });
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const file = process.env.EDGESPLIT_TEST_SUMMARY;
      if (file) writeFileSync(file, JSON.stringify({ passes, failures, pending }, null, 2) + '\n');
    });
  }
}

module.exports = SummaryReporter;
