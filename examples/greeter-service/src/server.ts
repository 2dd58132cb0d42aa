import { createServer } from 'node:http';
import { handleRequest } from './app';
import { instrument } from './metrics';

const port = Number(process.env.PORT ?? 8080);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be an integer between 0 and 65535, got '${process.env.PORT}'`);
  process.exit(2);
}

const server = createServer((req, res) => {
  try {
    handleRequest(req, res);
  } catch (error) {
    // One bad request must not take the process down; report it as a 500.
    console.error('request failed:', error);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'internal error' }));
  }
});

// Every request counted and timed, and GET /metrics for Prometheus.
instrument(server);

// HOST as the deployer gives it: loopback by default; a Pod's own address on the local cluster's node.
const host = process.env.HOST ?? '127.0.0.1';
server.listen(port, host, () => {
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  console.log(`greeter listening on http://${host}:${boundPort}`);
});

// Deployers stop versions with SIGTERM: finish in-flight requests, then exit.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
