import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { HeadEngine } from '../../src/runtime/head.ts';
import { loadPackage, resolvePackageDir } from '../../src/runtime/manifest.ts';
import { loadSample } from '../../src/runtime/sample.ts';
import { freePort, startStack, type Stack } from '../../src/tools/cli/stack.ts';
import { loadConfig } from '../../src/roles/router/config.ts';
import { createServer, routerDepsFromConfig } from '../../src/roles/router/server.ts';
import { degradationTable, DEGRADATION_MARGIN, degradedOf, imagesRequest, infer, oipStub, PACKAGE, sampleAccuracy, until } from './reliability-helpers.ts';

// README, "Failure and security": the degradation table (accuracy on the 1,000-image sample with one partition down,
// from bench/results/degradation.json, which scripts/check-readme-figures.ts ties to the README). Here the served
// answers of the real stack must reach the same accuracy with partition 1 unreachable (the worst case of the default
// package; degradation.test.ts checks partition 2 after SIGKILL). EDGESPLIT_DEGRADATION_ALL=1 checks all four (~1 min).
const DOWN = process.env.EDGESPLIT_DEGRADATION_ALL === '1' ? [0, 1, 2, 3] : [1];
describe('degraded accuracy matches the README\'s degradation table (real partitions, one unreachable)', function () {
  this.timeout(180_000);
  const pkg = loadPackage(resolvePackageDir(PACKAGE));
  const row = degradationTable(PACKAGE);
  let stack: Stack;

  before(async () => {
    stack = await startStack({ pkg, host: '127.0.0.1', withRouter: false, partitionArgs: ['--measure', 'false'] });
  });
  after(async () => stack?.stop(3000));

  for (const down of DOWN) {
    it(`should classify the 1,000-image sample with partition ${down} unreachable at the table's accuracy (±${DEGRADATION_MARGIN * 100} points)`, async () => {
      const expected = row.missing[down];
      // The router as configured for the full stack, with partition `down`'s address pointing at a closed port.
      const partitions = stack.partitions.map((p) => p.address);
      partitions[down] = `127.0.0.1:${await freePort('127.0.0.1')}`;
      const config = loadConfig(['--package', pkg.dir, '--partitions', partitions.join(','), '--host', '127.0.0.1', '--port', '0',
        '--health-interval-ms', '200'], {});
      const router = createServer(await routerDepsFromConfig(config, HeadEngine));
      try {
        const address = `127.0.0.1:${await router.listen('127.0.0.1', 0)}`;
        const stub = oipStub(address);
        // Once the circuit is open the peers are told the partition is missing and answers come at once.
        const opened = await until(async () => {
          const r = await infer(stub, imagesRequest(loadSample().images.subarray(0, 784), 1), 5000);
          return r.code === grpc.status.OK && degradedOf(r.res!).missing === String(down) && r.ms < 500;
        }, 10_000, 100);
        stub.close();
        assert.ok(opened, `partition ${down}'s circuit never opened`);
        const accuracy = await sampleAccuracy(address, String(down))
        assert.ok(Math.abs(accuracy - expected) <= DEGRADATION_MARGIN,
          `accuracy ${(accuracy * 100).toFixed(1)}% with partition ${down} down; the table says ${(expected * 100).toFixed(1)}%`);
      } finally {
        await router.shutdown(1000);
      }
    });
  }
});
