/**
 * The embedded log's writer thread: it owns the write connection and runs each group commit, fsync
 * included, so the API's event loop keeps parsing requests while the disk works. Speaks the protocol
 * below over the parent port.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../../sqlite/database.ts';
import { maintainStep, type MaintenanceRequest, type MaintenanceResult } from './archive.ts';
import { ChunkWriter, type CommitResult, type EncodedBatch } from './chunk-writer.ts';

export type ToWriter =
  | { type: 'commit'; id: number; batch: EncodedBatch }
  | { type: 'maintain'; id: number; request: MaintenanceRequest }
  | { type: 'close' };
export type FromWriter =
  | { type: 'ready' }
  | { type: 'committed'; id: number; result: CommitResult }
  | { type: 'maintained'; id: number; result: MaintenanceResult }
  | { type: 'failed'; id: number; message: string };

if (parentPort) {
  const port = parentPort;
  const { file, cacheMiB } = workerData as { file: string; cacheMiB: number | undefined };
  const db = openDatabase(file, { synchronous: 'full', cacheMiB, incrementalVacuum: true });
  const writer = new ChunkWriter(db);
  const post = (message: FromWriter) => port.postMessage(message);
  port.on('message', (message: ToWriter) => {
    if (message.type === 'close') {
      db.close();
      port.close();
      return;
    }
    try {
      if (message.type === 'maintain')
        post({ type: 'maintained', id: message.id, result: maintainStep(db, message.request) });
      else post({ type: 'committed', id: message.id, result: writer.commit(message.batch) });
    } catch (err) {
      post({ type: 'failed', id: message.id, message: (err as Error).message });
    }
  });
  post({ type: 'ready' });
}
