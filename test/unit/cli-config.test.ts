// One configuration path: every command and subcommand answers --help (exit 0, every option), bad usage is one line
// naming the flag with exit code 2, and each role's loadConfig reads flags and EDGESPLIT_* variables alike.
import assert from 'node:assert/strict';
import { runCli } from '../../src/tools/cli/main.ts';
import { UsageError } from '../../src/runtime/errors.ts';
import type { Settings } from '../../src/runtime/config.ts';
import { SETTINGS as PARTITION, loadConfig as partitionConfig } from '../../src/roles/partition/config.ts';
import { SETTINGS as ROUTER, loadConfig as routerConfig } from '../../src/roles/router/config.ts';
import { SETTINGS as PLANNER, loadConfig as plannerConfig } from '../../src/roles/planner/config.ts';
import { spec as up } from '../../src/tools/cli/commands/up.ts';
import { spec as demo } from '../../src/tools/cli/commands/demo.ts';
import { spec as classify } from '../../src/tools/cli/commands/classify.ts';
import { spec as evalSpec } from '../../src/tools/cli/commands/eval.ts';
import { spec as plan } from '../../src/tools/cli/commands/plan.ts';
import { spec as apply } from '../../src/tools/cli/commands/apply.ts';
import { spec as bench, runtimeSpec } from '../../src/tools/cli/commands/bench.ts';
import { spec as serve } from '../../src/tools/cli/commands/serve.ts';

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (s) => (stdout += `${s}\n`), stderr: (s) => (stderr += `${s}\n`) });
  return { code, stdout, stderr };
}

const P4 = 'fmnist-p4-x-x-x-x-1au-x';
const PEERS = '127.0.0.1:1,127.0.0.1:2,127.0.0.1:3,127.0.0.1:4';

const COMMANDS: [string[], Settings][] = [
  [['up'], up.settings], [['demo'], demo.settings], [['classify'], classify.settings], [['eval'], evalSpec.settings],
  [['plan'], plan.settings], [['apply'], apply.settings], [['bench'], bench.settings], [['bench', 'runtime'], runtimeSpec.settings],
  [['serve'], serve.settings], [['serve', 'partition'], PARTITION], [['serve', 'router'], ROUTER], [['serve', 'planner'], PLANNER],
];

describe('edgesplit CLI: one parser for every command', () => {
  for (const [path, settings] of COMMANDS) {
    it(`should answer 'edgesplit ${path.join(' ')} --help' with exit 0 and every option`, async () => {
      for (const help of ['--help', '-h']) {
        const r = await cli([...path, help]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr, '');
        assert.match(r.stdout, new RegExp(`^Usage: edgesplit ${path.join(' ')} `));
        for (const s of Object.values(settings)) {
          assert.ok(r.stdout.includes(`--${s.flag}`), `--${s.flag} missing from\n${r.stdout}`);
          if (s.default !== undefined) assert.ok(r.stdout.replace(/\s+/g, ' ').includes(`default: ${s.default}`), `--${s.flag}'s default`);
          if (s.env) assert.ok(r.stdout.replace(/\s+/g, ' ').includes(s.env), `--${s.flag}'s variable ${s.env}`);
        }
      }
    });

    it(`should reject an unknown option of 'edgesplit ${path.join(' ')}' with one line naming it and exit code 2`, async () => {
      const r = await cli([...path, '--bogus-flag']);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^edgesplit ${path.join(' ')}: --bogus-flag: unknown option`));
    });

    const valued = Object.values(settings).find((s) => (s.kind ?? 'value') === 'value');
    if (valued) {
      it(`should reject 'edgesplit ${path.join(' ')} --${valued.flag}' without its value (exit code 2, one line)`, async () => {
        const r = await cli([...path, `--${valued.flag}`]);
        assert.equal(r.code, 2, r.stderr);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.ok(r.stderr.includes(`--${valued.flag}`), r.stderr);
      });
    }
  }

  const BAD: [string[], string][] = [
    [['demo', '--images', 'many'], '--images'], [['eval', '--images', '0'], '--images'], [['up', 'stray'], 'arguments'],
    [['classify', '--router', '127.0.0.1:1', '--batch', 'x', '--samples', '0:2'], '--batch'], [['classify', '--samples', '0:5'], '--router'],
    [['plan', '--cluster', 'x.yaml', '--strategy', 'nope'], '--strategy'], [['plan', '--cluster', 'x.yaml', '--kube'], '--kube'],
    [['plan', '--cluster', 'x.yaml', '--accuracy-floor', 'high'], '--accuracy-floor'], [['plan', '--cluster', 'x.yaml', '--slo-ms', '-3'], '--slo-ms'],
    [['apply', '--plan', 'x.json', '--kube'], '--plan'], [['apply', '--plan', 'x.json', '--accuracy-floor', '2'], '--accuracy-floor'],
    [['bench', '--cpu', '7'], '--cpu'], [['bench', '--bandwidths', '10,fast'], '--bandwidths'], [['bench', 'runtime', 'x'], 'arguments'],
    [['serve'], 'role'], [['serve', 'bogus'], 'role'],
    [['serve', 'partition', '--package', P4, '--index', 'x'], '--index'], [['serve', 'partition', '--package', P4, '--index', '9', '--peers', PEERS], '--index'],
    [['serve', 'partition', '--package', 'no-such', '--index', '0'], '--package'],
    [['serve', 'router', '--package', P4, '--partitions', 'a:1'], '--partitions'], [['serve', 'router', '--package', P4, '--partitions', PEERS, '--strict', 'maybe'], '--strict'],
    [['serve', 'planner', '--port', 'x'], '--port'], [['serve', 'planner', '--accuracy-floor', '0.9', '--slo-ms', '10'], '--accuracy-floor'],
    [['bogus'], 'bogus'], [['help', 'bogus'], 'bogus'], [['apply'], '--plan'],
    [['up', '--planner', '--package', P4], '--package'], [['up', '--planner', '--cluster', '/no/such/cluster.yaml'], '--cluster'],
    [['up', '--planner', '--emulator-prefix', 'bad prefix'], '--emulator-prefix'], [['up', '--planner', '--interval-ms', '5'], '--interval-ms'],
    [['up', '--planner', '--accuracy-floor', '1.5'], '--accuracy-floor'], [['bench', '--scenario', 'flood'], '--scenario'],
    [['bench', '--scenario', 'link-drop', '--drop-mbps', '0'], '--drop-mbps'], [['bench', '--scenario', 'batching', '--clients', '0,4'], '--clients'],
  ];
  for (const [args, flag] of BAD) {
    it(`should reject 'edgesplit ${args.join(' ')}' with one line naming ${flag} and exit code 2`, async () => {
      const r = await cli(args);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.ok(r.stderr.includes(`: ${flag}: `), r.stderr);
    });
  }

  it('should print the version and the command list', async () => {
    assert.match((await cli(['--version'])).stdout, /^edgesplit \d+\.\d+\.\d+\n$/);
    const r = await cli([]);
    assert.equal(r.code, 0);
    for (const c of ['up', 'demo', 'classify', 'eval', 'plan', 'apply', 'bench', 'serve']) assert.match(r.stdout, new RegExp(`\\n  ${c} `));
    assert.equal((await cli(['help', 'plan'])).code, 0);
  });
});

describe('role configuration: flags and EDGESPLIT_* variables', () => {
  // The loaded package holds closures: compare it by its directory.
  const plain = <T extends { pkg: { dir: string } }>(c: T) => ({ ...c, pkg: c.pkg.dir });
  const usage = (name: string) => (e: unknown) => e instanceof UsageError && e.flag === name && e.field === name;

  it('should give the partition the same config from flags and from the environment', () => {
    const flags = partitionConfig(['--package', P4, '--index', '2', '--peers', PEERS, '--max-batch', '8', '--measure', 'false',
      '--push-calls', 'unary', '--drain-ms', '0'], {});
    const env = partitionConfig([], { EDGESPLIT_PACKAGE: P4, EDGESPLIT_INDEX: '2', EDGESPLIT_PEERS: PEERS, EDGESPLIT_MAX_BATCH: '8',
      EDGESPLIT_MEASURE: 'false', EDGESPLIT_PUSH_CALLS: 'unary', EDGESPLIT_DRAIN_MS: '0' });
    assert.deepEqual(plain(flags), plain(env));
    assert.equal(flags.maxBatch, 8);
    assert.equal(flags.measure, false);
    assert.deepEqual(flags.peers, PEERS.split(','));
    // Defaults unchanged.
    const d = partitionConfig(['--package', P4, '--index', '0', '--peers', PEERS], {});
    assert.deepEqual([d.port, d.host, d.intraOpThreads, d.maxInFlight, d.maxBatch, d.earlyPushTtlMs, d.defaultTimeoutMs, d.drainMs, d.measure, d.pushCalls],
      [0, '127.0.0.1', 1, 64, 64, 2000, 30_000, 10_000, true, 'stream']);
    // A flag wins over its variable.
    assert.equal(partitionConfig(['--max-batch', '16'], { EDGESPLIT_PACKAGE: P4, EDGESPLIT_INDEX: '0', EDGESPLIT_PEERS: PEERS, EDGESPLIT_MAX_BATCH: '8' }).maxBatch, 16);
  });

  it('should give the router the same config from flags and from the environment', () => {
    const flags = routerConfig(['--package', P4, '--partitions', PEERS, '--port', '0', '--timeout-ms', '900', '--strict',
      '--partition-calls', 'unary', '--breaker-failures', '5'], {});
    const env = routerConfig([], { EDGESPLIT_PACKAGE: P4, EDGESPLIT_PARTITIONS: PEERS, EDGESPLIT_PORT: '0', EDGESPLIT_TIMEOUT_MS: '900',
      EDGESPLIT_STRICT: 'true', EDGESPLIT_PARTITION_CALLS: 'unary', EDGESPLIT_BREAKER_FAILURES: '5' });
    assert.deepEqual(plain(flags), plain(env));
    assert.deepEqual([flags.strict, flags.defaultTimeoutMs, flags.partitionCalls, flags.breakerFailures], [true, 900, 'unary', 5]);
    const d = routerConfig(['--package', P4, '--partitions', PEERS], {});
    assert.deepEqual([d.host, d.port, d.maxBatch, d.defaultTimeoutMs, d.maxMessageBytes, d.strict, d.headThreads, d.healthIntervalMs,
      d.maxInFlight, d.breakerFailures, d.planPollMs, d.partitionCalls], ['0.0.0.0', 8001, 64, 5000, 4 * 1024 * 1024, false, 1, 1000, 64, 3, 2000, 'stream']);
    // The chart's form: --strict "false" / "true".
    assert.equal(routerConfig(['--package', P4, '--partitions', PEERS, '--strict', 'false'], { EDGESPLIT_STRICT: 'true' }).strict, false);
  });

  it("should read the router's dynamic batching settings from flags and the environment, on by default", () => {
    const base = ['--package', P4, '--partitions', PEERS];
    assert.deepEqual(routerConfig(base, {}).batching, { maxBatchSize: 16, preferredBatchSizes: [], maxQueueDelayUs: 0, instances: 2 });
    const flags = routerConfig([...base, '--batch-max-size', '8', '--batch-preferred-sizes', '4, 8', '--batch-max-queue-delay-us', '500',
      '--batch-instances', '1'], {});
    const env = routerConfig(base, { EDGESPLIT_BATCH_MAX_SIZE: '8', EDGESPLIT_BATCH_PREFERRED_SIZES: '4,8', EDGESPLIT_BATCH_MAX_QUEUE_DELAY_US: '500',
      EDGESPLIT_BATCH_INSTANCES: '1' });
    assert.deepEqual(flags.batching, { maxBatchSize: 8, preferredBatchSizes: [4, 8], maxQueueDelayUs: 500, instances: 1 });
    assert.deepEqual(env.batching, flags.batching);
    assert.equal(routerConfig([...base, '--dynamic-batching', 'false'], {}).batching, undefined);
    assert.equal(routerConfig(base, { EDGESPLIT_DYNAMIC_BATCHING: 'off' }).batching, undefined);
    assert.throws(() => routerConfig([...base, '--batch-max-size', '0'], {}), usage('--batch-max-size'));
    assert.throws(() => routerConfig([...base, '--batch-preferred-sizes', '4,x'], {}), usage('--batch-preferred-sizes'));
    assert.throws(() => routerConfig(base, { EDGESPLIT_BATCH_MAX_QUEUE_DELAY_US: '-1' }), usage('EDGESPLIT_BATCH_MAX_QUEUE_DELAY_US'));
    assert.throws(() => routerConfig(base, { EDGESPLIT_BATCH_INSTANCES: '0' }), usage('EDGESPLIT_BATCH_INSTANCES'));
    assert.throws(() => routerConfig(base, { EDGESPLIT_DYNAMIC_BATCHING: 'maybe' }), usage('EDGESPLIT_DYNAMIC_BATCHING'));
  });

  it('should give the planner the same config from flags and from the environment', () => {
    const flags = plannerConfig(['--port', '0', '--cluster', 'test/fixtures/clusters/fast-network.yaml', '--namespace', 'edge',
      '--catalog', 'models/catalog.json', '--kubeconfig', '/tmp/kc', '--slo-ms', '40', '--debounce-ms', '10',
      '--router-address', 'edgesplit-router.edge.svc:8001', '--switch-grace-ms', '5000', '--ready-timeout-ms', '60000'], {});
    const env = plannerConfig([], { EDGESPLIT_PLANNER_PORT: '0', EDGESPLIT_CLUSTER_FILE: 'test/fixtures/clusters/fast-network.yaml',
      EDGESPLIT_NAMESPACE: 'edge', EDGESPLIT_CATALOG: 'models/catalog.json', KUBECONFIG: '/tmp/kc', EDGESPLIT_SLO_MS: '40', EDGESPLIT_DEBOUNCE_MS: '10',
      EDGESPLIT_ROUTER_ADDRESS: 'edgesplit-router.edge.svc:8001', EDGESPLIT_SWITCH_GRACE_MS: '5000', EDGESPLIT_READY_TIMEOUT_MS: '60000' });
    assert.deepEqual(flags, env);
    assert.deepEqual(flags.objective, { mode: 'slo', sloMs: 40 });
    assert.deepEqual([flags.routerAddress, flags.switchGraceMs, flags.readyTimeoutMs], ['edgesplit-router.edge.svc:8001', 5000, 60000]);
    const d = plannerConfig(['--namespace', 'x'], {});
    assert.deepEqual([d.catalog, d.image, d.modelsDir, d.port, d.debounceMs, d.sharedMedium, d.objective, d.routerAddress, d.switchGraceMs, d.readyTimeoutMs],
      ['models/catalog.json', 'ghcr.io/edgesplit/edgesplit:0.1.0', '/app/models', 50052, 2000, false, { mode: 'latency' }, undefined, 90000, 180000]);
  });

  it('should name the variable when a value from the environment is bad, and the flag when a flag is', () => {
    assert.throws(() => partitionConfig([], { EDGESPLIT_PACKAGE: P4, EDGESPLIT_INDEX: '-1', EDGESPLIT_PEERS: PEERS }), usage('EDGESPLIT_INDEX'));
    assert.throws(() => partitionConfig(['--index', '-1'], { EDGESPLIT_PACKAGE: P4, EDGESPLIT_PEERS: PEERS }), usage('--index'));
    assert.throws(() => partitionConfig([], { EDGESPLIT_PACKAGE: P4, EDGESPLIT_INDEX: '0', EDGESPLIT_PEERS: 'nope' }), usage('EDGESPLIT_PEERS'));
    assert.throws(() => routerConfig(['--package', P4, '--partitions', PEERS], { EDGESPLIT_MAX_BATCH: 'lots' }), usage('EDGESPLIT_MAX_BATCH'));
    assert.throws(() => routerConfig(['--package', P4], { EDGESPLIT_PARTITIONS: 'a:1' }), usage('EDGESPLIT_PARTITIONS'));
    assert.throws(() => routerConfig(['--package', P4, '--partitions', PEERS], { EDGESPLIT_STRICT: 'maybe' }), usage('EDGESPLIT_STRICT'));
    assert.throws(() => plannerConfig([], { EDGESPLIT_PLANNER_PORT: 'x' }), usage('EDGESPLIT_PLANNER_PORT'));
    assert.throws(() => plannerConfig([], { EDGESPLIT_NAMESPACE: 'Not_A_Label' }), usage('EDGESPLIT_NAMESPACE'));
    assert.throws(() => plannerConfig([], { EDGESPLIT_NAMESPACE: 'x', EDGESPLIT_PARTITION_TEMPLATE: '{' }), usage('EDGESPLIT_PARTITION_TEMPLATE'));
    assert.throws(() => plannerConfig(['--port', 'x'], {}), usage('--port'));
    assert.throws(() => plannerConfig([], { EDGESPLIT_NAMESPACE: 'x', EDGESPLIT_ROUTER_ADDRESS: 'http://router' }), usage('EDGESPLIT_ROUTER_ADDRESS'));
    assert.throws(() => plannerConfig(['--switch-grace-ms', '-1'], { EDGESPLIT_NAMESPACE: 'x' }), usage('--switch-grace-ms'));
    assert.throws(() => plannerConfig([], { EDGESPLIT_NAMESPACE: 'x', EDGESPLIT_READY_TIMEOUT_MS: '0' }), usage('EDGESPLIT_READY_TIMEOUT_MS'));
    // An unknown flag or one without its value.
    assert.throws(() => routerConfig(['--bogus'], {}), usage('--bogus'));
    assert.throws(() => partitionConfig(['--index'], {}), usage('--index'));
  });
});
