/**
 * The Web UI and its codec endpoint, as the browser uses them (no browser: chromium is not installed):
 * the dev server started with a codec endpoint tells the UI about it, the UI's API serves the encrypted
 * history, and the endpoint decrypts it for the UI's origin.
 */
import type http from 'node:http';
import path from 'node:path';
import { createCodecServer, listenCodecServer, webUiOrigins } from '../../../../infra/temporal/codec-server';
import { startDevServer, stopDevServer, type DevServerOptions } from '../../../../infra/temporal/dev-server';
import { connectTemporalClient, ENCRYPTED_ENCODING } from '../../../../io/payload-codec';
import { tempDir, testCodec } from '../../../helpers/temporal';

const runDir = tempDir('temporal-codec-ui');
const server: DevServerOptions = { port: 7283, uiPort: 8283, dbFile: path.join(runDir, 'dev.sqlite'), runDir };
let codecServer: http.Server;

beforeAll(async () => {
  codecServer = createCodecServer({ codec: testCodec(), namespace: 'default', allowedOrigins: webUiOrigins(server.uiPort) });
  server.codecEndpoint = await listenCodecServer(codecServer, 0);
  await startDevServer(server);
}, 120_000);

afterAll(async () => {
  await stopDevServer(server);
  await new Promise((r) => codecServer.close(r));
});

interface WirePayload {
  metadata: Record<string, string>;
  data: string;
}

test("the Web UI is pointed at the codec endpoint and what it fetches from history decrypts there for the UI's origin", async () => {
  const ui = `http://127.0.0.1:${server.uiPort}`;
  const settings = (await (await fetch(`${ui}/api/v1/settings`)).json()) as { Codec: { Endpoint: string } };
  expect(settings.Codec.Endpoint).toBe(server.codecEndpoint);

  const client = await connectTemporalClient({ address: `127.0.0.1:${server.port}`, namespace: 'default', codec: testCodec() });
  const workflowId = `codec-ui-${Date.now().toString(36)}`;
  try {
    await client.workflow.start('releaseTrain', { taskQueue: 'nobody-polls', workflowId, args: [{ title: 'shown decrypted in the Web UI' }] });
  } finally {
    await client.connection.close();
  }
  const history = (await (await fetch(`${ui}/api/v1/namespaces/default/workflows/${workflowId}/history`)).json()) as {
    history: { events: { workflowExecutionStartedEventAttributes?: { input: { payloads: WirePayload[] } } }[] };
  };
  const input = history.history.events[0]!.workflowExecutionStartedEventAttributes!.input.payloads;
  expect(Buffer.from(input[0]!.metadata.encoding!, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
  expect(Buffer.from(input[0]!.data, 'base64').toString('latin1')).not.toContain('shown decrypted');

  const decoded = await fetch(`${settings.Codec.Endpoint}/decode`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', Origin: ui },
    body: JSON.stringify({ payloads: input }),
  });
  expect(decoded.headers.get('access-control-allow-origin')).toBe(ui);
  const { payloads } = (await decoded.json()) as { payloads: WirePayload[] };
  expect(JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString())).toEqual({ title: 'shown decrypted in the Web UI' });
});
