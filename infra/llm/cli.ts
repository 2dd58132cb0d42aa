/** `tsx infra/llm/cli.ts start|stop|url|serve`: the embedded OpenAI-compatible LLM server (port MAESTRO_LLM_PORT, threads MAESTRO_LLM_THREADS). */
import { runServerCli } from '../detached-server';
import { ensureLlmServer, llmServerOptionsFromEnv, llmServerUrl, serveLlm, stopLlmServer } from './server';

const opts = llmServerOptionsFromEnv();
runServerCli(
  'infra/llm/cli.ts',
  {
    start: async () => {
      const started = Date.now();
      const server = await ensureLlmServer(opts);
      return [
        `${server.reused ? 'LLM server already running' : `LLM server started in ${Date.now() - started} ms (pid ${server.pid})`}: ${server.url} (${opts.models.map((m) => m.id).join(', ')}; ${opts.threads} threads)`,
        `use it with: export MAESTRO_LLM_BASE_URL=${server.url}`,
      ].join('\n');
    },
    stop: async () => ((await stopLlmServer(opts)) ? 'LLM server stopped' : `no LLM server started by this project runs on port ${opts.port}`),
    url: async () => llmServerUrl(opts),
    // The detached server's body (ensureLlmServer spawns this); it runs until killed.
    serve: async () => `LLM server listening at ${(await serveLlm(opts)).url} (${opts.threads} threads)`,
  },
  'MAESTRO_LLM_PORT, MAESTRO_LLM_THREADS, MAESTRO_LLM_CONTEXT',
);
