import { workerConfigFromEnv } from '../../../workers/config';
import { ValidationError } from '../../../core/validation';

describe('the health source in the worker configuration', () => {
  it("defaults to the proxy's own figures, with the project's Prometheus as the url", () => {
    const config = workerConfigFromEnv({});
    expect(config.MAESTRO_HEALTH_SOURCE).toBe('proxy');
    expect(config.MAESTRO_PROMETHEUS_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('takes prometheus with a url', () => {
    const config = workerConfigFromEnv({ MAESTRO_HEALTH_SOURCE: 'prometheus', MAESTRO_PROMETHEUS_URL: 'http://127.0.0.1:7211' });
    expect([config.MAESTRO_HEALTH_SOURCE, config.MAESTRO_PROMETHEUS_URL]).toEqual(['prometheus', 'http://127.0.0.1:7211']);
  });

  it('refuses an unknown source or a url with a path, naming the variable and what is allowed', () => {
    expect(() => workerConfigFromEnv({ MAESTRO_HEALTH_SOURCE: 'datadog' })).toThrow(ValidationError);
    expect(() => workerConfigFromEnv({ MAESTRO_HEALTH_SOURCE: 'datadog' })).toThrow("MAESTRO_HEALTH_SOURCE: got 'datadog', allowed: 'proxy', 'prometheus'");
    expect(() => workerConfigFromEnv({ MAESTRO_PROMETHEUS_URL: 'http://127.0.0.1:9090/api/v1' })).toThrow(/MAESTRO_PROMETHEUS_URL: an http:\/\/ base url, e\.g\. 'http:\/\/127\.0\.0\.1:9090'/);
  });
});
