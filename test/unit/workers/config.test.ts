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

describe('the deployer in the worker configuration', () => {
  it('defaults to local processes; kubernetes takes the local cluster unless told otherwise', () => {
    expect(workerConfigFromEnv({}).MAESTRO_DEPLOYER).toBe('local');
    const config = workerConfigFromEnv({ MAESTRO_DEPLOYER: 'kubernetes', MAESTRO_HEALTH_SOURCE: 'prometheus', MAESTRO_K8S_NAMESPACE: 'apps' });
    expect(config).toMatchObject({ MAESTRO_DEPLOYER: 'kubernetes', MAESTRO_K8S_NAMESPACE: 'apps', MAESTRO_K8S_GATEWAY: 'maestro' });
    expect(config.MAESTRO_K8S_KUBECONFIG).toMatch(/\.maestro\/kubernetes\/kubeconfig$/);
  });

  it('refuses kubernetes without Prometheus (no proxy counts requests in a cluster), and a namespace Kubernetes cannot take', () => {
    expect(() => workerConfigFromEnv({ MAESTRO_DEPLOYER: 'kubernetes' })).toThrow(/MAESTRO_HEALTH_SOURCE: MAESTRO_DEPLOYER=kubernetes needs MAESTRO_HEALTH_SOURCE=prometheus/);
    expect(() => workerConfigFromEnv({ MAESTRO_DEPLOYER: 'kubernetes', MAESTRO_HEALTH_SOURCE: 'prometheus', MAESTRO_K8S_NAMESPACE: 'Apps_1' })).toThrow(/MAESTRO_K8S_NAMESPACE: a namespace name/);
  });

  it('argo-rollouts: Prometheus too, and a canary ladder that increases to 100', () => {
    expect(workerConfigFromEnv({ MAESTRO_DEPLOYER: 'argo-rollouts', MAESTRO_HEALTH_SOURCE: 'prometheus', MAESTRO_ARGO_CANARY_WEIGHTS: '10,50,100' })).toMatchObject({ MAESTRO_DEPLOYER: 'argo-rollouts', MAESTRO_ARGO_CANARY_WEIGHTS: [10, 50, 100] });
    expect(() => workerConfigFromEnv({ MAESTRO_DEPLOYER: 'argo-rollouts' })).toThrow(/MAESTRO_DEPLOYER=argo-rollouts needs MAESTRO_HEALTH_SOURCE=prometheus/);
    expect(() => workerConfigFromEnv({ MAESTRO_DEPLOYER: 'argo-rollouts', MAESTRO_HEALTH_SOURCE: 'prometheus', MAESTRO_ARGO_CANARY_WEIGHTS: '50,10' })).toThrow(/MAESTRO_ARGO_CANARY_WEIGHTS: canary weights must increase/);
  });
});
