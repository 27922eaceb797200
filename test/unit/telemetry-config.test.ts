import assert from 'node:assert/strict';
import { telemetryConfig, telemetryWanted } from '../../src/runtime/telemetry/config.ts';
import { WarnOnce } from '../../src/runtime/telemetry/warn.ts';
import { lineLogger } from '../../src/runtime/log.ts';

describe('telemetry configuration from OTEL_* variables', () => {
  it('should start nothing when no exporter, endpoint or Prometheus port is set', () => {
    assert.equal(telemetryWanted(telemetryConfig({})), false);
    assert.equal(telemetryWanted(telemetryConfig({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' })), false);
  });

  it('should trace and export metrics over OTLP when only the endpoint is set', () => {
    const c = telemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' });
    assert.equal(c.traces, true);
    assert.deepEqual(c.metricExporters, ['otlp']);
  });

  it('should follow OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER, none included', () => {
    assert.equal(telemetryConfig({ OTEL_TRACES_EXPORTER: 'console' }).traces, true);
    const c = telemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' });
    assert.equal(c.traces, false);
    assert.deepEqual(c.metricExporters, []);
    assert.equal(telemetryWanted(c), false);
  });

  it('should make events per ONNX session run only when traces are on and EDGESPLIT_TRACE_UNITS=true', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    assert.equal(telemetryConfig(endpoint).unitEvents, false);
    assert.equal(telemetryConfig({ ...endpoint, EDGESPLIT_TRACE_UNITS: 'true' }).unitEvents, true);
    assert.equal(telemetryConfig({ ...endpoint, EDGESPLIT_TRACE_UNITS: 'true', OTEL_TRACES_EXPORTER: 'none' }).unitEvents, false);
    assert.equal(telemetryConfig({ EDGESPLIT_TRACE_UNITS: 'true' }).unitEvents, false);
  });

  it('should turn everything off with OTEL_SDK_DISABLED=true', () => {
    assert.equal(telemetryWanted(telemetryConfig({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      EDGESPLIT_PROMETHEUS_PORT: '9464' })), false);
  });

  it('should serve Prometheus on EDGESPLIT_PROMETHEUS_PORT and report a bad port as a problem, not an error', () => {
    assert.deepEqual(telemetryConfig({ EDGESPLIT_PROMETHEUS_PORT: '9464' }).prometheus, { host: '0.0.0.0', port: 9464 });
    const bad = telemetryConfig({ EDGESPLIT_PROMETHEUS_PORT: 'http', OTEL_METRICS_EXPORTER: 'otlp,statsd' });
    assert.equal(bad.prometheus, undefined);
    assert.deepEqual(bad.metricExporters, ['otlp']);
    assert.equal(bad.problems.length, 2);
  });

  it('should write each kind of warning once, whatever its numbers', () => {
    const out: string[] = [];
    const w = new WarnOnce(lineLogger('test', (l) => out.push(l)));
    for (let i = 0; i < 50; i++) w.warn(`export failed: connect ECONNREFUSED 127.0.0.1:${4000 + i}`);
    w.warn('unknown OTEL_TRACES_SAMPLER value "x", using default');
    assert.equal(out.length, 2);
    assert.equal(w.suppressed, 49);
    assert.equal(JSON.parse(out[0]).level, 'warn');
    assert.equal(JSON.parse(out[0]).service, 'test');
  });
});
