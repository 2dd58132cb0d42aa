/** `maestro explain <train>`: why a train ended as it did, from the record (and Temporal, while it runs). */
import { defineCommand, UsageError } from '../command';
import { EXIT } from '../errors';
import { openRecord, recordUnreachable } from '../record';

export const command = defineCommand({
  name: 'explain',
  usage: `usage: maestro explain <train-id> [--json]
  why the train ended as it did: the deciding fact first, then every gate verdict with its figures and
  thresholds, every denial with its evidence and fix, every operator action with who did it (exit 4: no such train)`,
  options: { json: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new UsageError('needs exactly one <train-id>');
    const trainId = positionals[0]!;
    const [{ explainTrain, formatExplanation }, { record, databaseUrl, close }] = await Promise.all([import('../../core/explain'), openRecord()]);
    try {
      const dossier = await record.trainDossier({ trainId }).catch((err: unknown) => {
        if ((err as { type?: string }).type === 'UnknownTrain') return undefined;
        throw err;
      });
      if (!dossier) {
        io.error(`maestro explain: no train '${trainId}' in the record (train ids are the workflow ids 'maestro release' prints)`);
        return EXIT.notFound;
      }
      const live = await fromTemporal(trainId, dossier.train.state === 'running');
      if (live.summary) dossier.summary = live.summary;
      const explanation = explainTrain(dossier);
      io.print(values.json ? JSON.stringify({ ...explanation, ...(live.trace ? { trace: live.trace } : {}) }, null, 2) : formatExplanation(explanation));
      if (!values.json && live.trace) io.print(`\nTrace:\n${live.formattedTrace}`);
      return 0;
    } catch (err) {
      throw await recordUnreachable(err, databaseUrl);
    } finally {
      await close();
    }
  },
});

/**
 * What only Temporal knows, when it answers: a running train's timeline so far (the record has it only
 * once the train closes) and the train's trace (its memo).
 */
async function fromTemporal(trainId: string, running: boolean) {
  const [{ tryConnectClient }, { formatTrace, liveTrain, trainTrace }] = await Promise.all([import('../client'), import('../release')]);
  const client = await tryConnectClient();
  if (!client) return {};
  try {
    const live = running ? await liveTrain(client, trainId) : undefined;
    // A train Temporal no longer keeps (retention) has no memo to read.
    const trace = await trainTrace(client, trainId).catch(() => undefined);
    return { summary: live && { timeline: live.timeline }, trace, formattedTrace: trace && formatTrace(trace) };
  } finally {
    await client.connection.close();
  }
}
