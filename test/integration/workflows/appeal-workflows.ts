/** Workflows bundled for the appeal test: the appeal itself and a stand-in train that waits for its verdict. */
import { condition, defineQuery, setHandler } from '@temporalio/workflow';
import { appealDecidedSignal, type AppealResult } from '../../../workflows/messages';

export { appeal } from '../../../workflows/appeal';

export const receivedQuery = defineQuery<AppealResult[]>('received');

export async function standInTrain(): Promise<AppealResult[]> {
  const received: AppealResult[] = [];
  setHandler(appealDecidedSignal, (r) => void received.push(r));
  setHandler(receivedQuery, () => received);
  await condition(() => received.length > 0, '1 minute');
  return received;
}
