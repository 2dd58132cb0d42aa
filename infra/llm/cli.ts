/** `tsx infra/llm/cli.ts start|stop|url|serve`: the embedded OpenAI-compatible LLM server (port MAESTRO_LLM_PORT, threads MAESTRO_LLM_THREADS). */
import { ensureLlmServer, llmServerOptionsFromEnv, llmServerUrl, serveLlm, stopLlmServer } from './server';

async function main(command: string | undefined): Promise<void> {
  const opts = llmServerOptionsFromEnv();
  if (command === 'start') {
    const started = Date.now();
    const server = await ensureLlmServer(opts);
    console.log(`${server.reused ? 'LLM server already running' : `LLM server started in ${Date.now() - started} ms (pid ${server.pid})`}: ${server.url} (${opts.models.map((m) => m.id).join(', ')}; ${opts.threads} threads)`);
    console.log(`use it with: export MAESTRO_LLM_BASE_URL=${server.url}`);
  } else if (command === 'stop') {
    console.log((await stopLlmServer(opts)) ? 'LLM server stopped' : `no LLM server started by this project runs on port ${opts.port}`);
  } else if (command === 'url') {
    console.log(llmServerUrl(opts));
  } else if (command === 'serve') {
    // The detached server's body (ensureLlmServer spawns this); runs until killed.
    const server = await serveLlm(opts);
    console.log(`LLM server listening at ${server.url} (${opts.threads} threads)`);
  } else {
    console.error('usage: tsx infra/llm/cli.ts start|stop|url|serve   (MAESTRO_LLM_PORT, MAESTRO_LLM_THREADS, MAESTRO_LLM_CONTEXT)');
    process.exit(2);
  }
}

main(process.argv[2]).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
