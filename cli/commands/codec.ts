/** `maestro codec serve|rotate`: the Web UI's codec endpoint, and key rotation for the payload codec. */
import { defineCommand, portOption, UsageError } from '../command';
import { CliError, EXIT } from '../errors';

export const command = defineCommand({
  name: 'codec',
  usage: `usage: maestro codec serve [--port N] [--ui-port N]
       maestro codec rotate
  serve   the codec endpoint for the Temporal Web UI on 127.0.0.1 (default port 8234, for the UI on 8233):
          decrypts payloads with the worker's keys (MAESTRO_CODEC_KEYS, or the key file under MAESTRO_STATE_DIR)
  rotate  add a new current key to the key file; older keys stay so that existing histories still decrypt.
          Restart the worker and the codec endpoint ('maestro down', 'maestro up') to use it`,
  options: { port: { type: 'string' }, 'ui-port': { type: 'string' } },
  async run({ values, positionals }, io) {
    const [sub, ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected argument(s) ${extra.join(' ')}`);
    const [{ codecSettings, cliCodec, TEMPORAL_NAMESPACE }, { statePaths }] = await Promise.all([import('../client'), import('../../io/paths')]);
    if (sub === 'rotate') {
      const settings = codecSettings();
      if (settings.keys) throw new CliError('the keys come from MAESTRO_CODEC_KEYS: rotate by putting a new id:key first in it (keep the old ones after it)', EXIT.usage);
      const { rotateKeyFile } = await import('../../io/payload-codec');
      const file = statePaths(settings.stateDir).codecKeys;
      const rotated = rotateKeyFile(file);
      io.print(`payload codec: new current key ${rotated.current} in ${file} (keys: ${rotated.keys.join(', ')}); restart the worker and the codec endpoint to use it`);
      return 0;
    }
    if (sub !== 'serve') throw new UsageError(sub ? `unknown subcommand '${sub}'; allowed: serve, rotate` : 'missing subcommand: serve or rotate');
    const [{ createCodecServer, listenCodecServer, webUiOrigins }, { DEFAULT_CODEC_PORT, defaultDevServer }] = await Promise.all([
      import('../../infra/temporal/codec-server'),
      import('../../infra/temporal/dev-server'),
    ]);
    const uiPort = portOption('ui-port', values['ui-port'], defaultDevServer.uiPort);
    const server = createCodecServer({ codec: cliCodec(), namespace: TEMPORAL_NAMESPACE, allowedOrigins: webUiOrigins(uiPort) });
    const url = await listenCodecServer(server, portOption('port', values.port, DEFAULT_CODEC_PORT));
    io.print(`codec endpoint: listening on ${url} for the Web UI at http://127.0.0.1:${uiPort} (namespace ${TEMPORAL_NAMESPACE})`);
    await new Promise<void>((resolve) => {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => server.close(() => resolve()));
    });
    return 0;
  },
});
