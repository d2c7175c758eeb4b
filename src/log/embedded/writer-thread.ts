/**
 * The embedded log's writer thread: it owns the write connection and runs each group commit, fsync
 * included, so the API's event loop keeps parsing requests while the disk works. Speaks the protocol
 * below over the parent port.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../../sqlite/database.ts';
import {
  ChunkWriter,
  sweep,
  type CommitResult,
  type EncodedBatch,
  type SweepResult,
} from './chunk-writer.ts';

export type ToWriter =
  | { type: 'commit'; id: number; batch: EncodedBatch }
  | { type: 'sweep'; id: number; before: number }
  | { type: 'close' };
export type FromWriter =
  | { type: 'ready' }
  | { type: 'committed'; id: number; result: CommitResult }
  | { type: 'swept'; id: number; result: SweepResult }
  | { type: 'failed'; id: number; message: string };

if (parentPort) {
  const port = parentPort;
  const { file, cacheMiB } = workerData as { file: string; cacheMiB: number | undefined };
  const db = openDatabase(file, { synchronous: 'full', cacheMiB });
  const writer = new ChunkWriter(db);
  const post = (message: FromWriter) => port.postMessage(message);
  port.on('message', (message: ToWriter) => {
    if (message.type === 'close') {
      db.close();
      port.close();
      return;
    }
    try {
      if (message.type === 'sweep')
        post({ type: 'swept', id: message.id, result: sweep(db, message.before) });
      else post({ type: 'committed', id: message.id, result: writer.commit(message.batch) });
    } catch (err) {
      post({ type: 'failed', id: message.id, message: (err as Error).message });
    }
  });
  post({ type: 'ready' });
}
