import assert from 'node:assert/strict';
import { lineLogger } from '../../src/runtime/log.ts';
import { serveRole } from '../../src/runtime/serve-role.ts';

const tick = () => new Promise((r) => setTimeout(r, 10));

describe('serveRole (the life of every serving process)', () => {
  it('should log one ready line, stop once on SIGTERM (a second signal only logged), then log stopped', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = lineLogger('partition', (l) => lines.push(JSON.parse(l)));
    let stops = 0;
    let release!: () => void;
    const served = serveRole({ role: 'partition', log, telemetry: { service: 'test', env: {} },
      start: async () => ({ port: 1234, ready: { address: 'h:1234', package: 'p' }, stopping: () => ({ inFlight: 2 }),
        stop: async () => {
          stops++;
          await new Promise<void>((r) => { release = r; });
          return { droppedPushes: 0 };
        } }) });
    while (!lines.some((l) => l.msg === 'ready')) await tick();
    const ready = lines.find((l) => l.msg === 'ready')!;
    assert.deepEqual({ ...ready, ts: undefined }, { level: 'info', ts: undefined, service: 'partition', ready: 'partition',
      port: 1234, address: 'h:1234', package: 'p', msg: 'ready' });
    process.emit('SIGTERM', 'SIGTERM');
    await tick();
    process.emit('SIGINT', 'SIGINT');
    await tick();
    release();
    await served;
    assert.equal(stops, 1);
    assert.deepEqual(lines.map((l) => l.msg), ['ready', 'stopping', 'already stopping', 'stopped']);
    assert.equal(lines[1].signal, 'SIGTERM');
    assert.equal(lines[1].inFlight, 2);
    assert.equal(lines[3].droppedPushes, 0);
    assert.equal(process.listenerCount('SIGTERM'), 0);
    assert.equal(process.listenerCount('SIGINT'), 0);
  });

  it('should pass a start failure on, starting nothing that waits for a signal', async () => {
    const lines: string[] = [];
    await assert.rejects(serveRole({ role: 'router', log: lineLogger('router', (l) => lines.push(l)), telemetry: { service: 'test', env: {} },
      start: async () => { throw new Error('port in use'); } }), /port in use/);
    assert.deepEqual(lines, []);
    assert.equal(process.listenerCount('SIGTERM'), 0);
  });
});
