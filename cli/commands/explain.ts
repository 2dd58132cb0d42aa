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
      if (dossier.train.state === 'running') dossier.summary = await liveSummary(trainId);
      const explanation = explainTrain(dossier);
      io.print(values.json ? JSON.stringify(explanation, null, 2) : formatExplanation(explanation));
      return 0;
    } catch (err) {
      throw await recordUnreachable(err, databaseUrl);
    } finally {
      await close();
    }
  },
});

/** A running train's timeline so far, when Temporal answers (the record has it only once the train closes). */
async function liveSummary(trainId: string) {
  const [{ tryConnectClient }, { liveTrain }] = await Promise.all([import('../client'), import('../release')]);
  const client = await tryConnectClient();
  if (!client) return undefined;
  try {
    const live = await liveTrain(client, trainId);
    return live && { timeline: live.timeline };
  } finally {
    await client.connection.close();
  }
}
