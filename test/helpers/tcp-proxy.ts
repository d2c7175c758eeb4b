// A TCP proxy on loopback that a test can cut and heal: a network partition between one client
// (a sink) and a server (PostgreSQL) that leaves every other client of that server alone, with no
// privileges (no iptables, no network namespace) needed.
import { connect, createServer, type Server, type Socket } from 'node:net';

/** One client connection and the server connection it is forwarded to. */
interface Link {
  readonly client: Socket;
  upstream: Socket | undefined;
  /** Bytes held while cut, per direction, delivered in order on heal. */
  readonly held: { toServer: Buffer[]; toClient: Buffer[] };
  /** A side that closed while cut: its peer learns of it on heal, as after a partition. */
  closed: 'client' | 'server' | undefined;
}

/**
 * Forwards 127.0.0.1:`port` to `target`. `cut()` is a partition as a firewall dropping packets makes
 * it: no reset, no error; bytes stop moving both ways (TCP would retransmit them, so they are held and
 * delivered on heal, not lost), new connections get no answer from the server, and a side that closes
 * meanwhile is not seen to close by its peer until `heal()`.
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  readonly #links = new Set<Link>();
  #cut = false;

  private constructor(server: Server, target: { host: string; port: number }) {
    this.#server = server;
    this.#target = target;
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, target);
    server.on('connection', (socket) => proxy.#accept(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  /** Connections accepted so far that are still open on the client's side. */
  get connections(): number {
    return [...this.#links].filter((l) => !l.client.destroyed).length;
  }

  #accept(client: Socket): void {
    const link: Link = {
      client,
      upstream: undefined,
      held: { toServer: [], toClient: [] },
      closed: undefined,
    };
    this.#links.add(link);
    client.on('data', (chunk: Buffer) => this.#forward(link, 'toServer', chunk));
    client.on('error', () => undefined);
    client.on('close', () => this.#closed(link, 'client'));
    // While cut, the server never hears of the connection: it is opened on heal.
    if (!this.#cut) this.#open(link);
  }

  #open(link: Link): void {
    const upstream = connect(this.#target.port, this.#target.host);
    link.upstream = upstream;
    upstream.on('data', (chunk: Buffer) => this.#forward(link, 'toClient', chunk));
    upstream.on('error', () => undefined);
    upstream.on('close', () => this.#closed(link, 'server'));
    for (const chunk of link.held.toServer.splice(0)) upstream.write(chunk);
  }

  #forward(link: Link, way: 'toServer' | 'toClient', chunk: Buffer): void {
    const to = way === 'toServer' ? link.upstream : link.client;
    if (this.#cut || !to) {
      link.held[way].push(chunk);
      // Stop reading: the sender's window fills and its writes wait, as with packets going nowhere.
      (way === 'toServer' ? link.client : link.upstream)?.pause();
      return;
    }
    to.write(chunk);
  }

  #closed(link: Link, side: 'client' | 'server'): void {
    if (this.#cut) {
      link.closed ??= side;
      return;
    }
    link.client.destroy();
    link.upstream?.destroy();
    this.#links.delete(link);
  }

  /** Partitions every connection, open and new, from the server. */
  cut(): void {
    this.#cut = true;
  }

  /** Ends the partition: held bytes and closes are delivered, held connections are opened. */
  heal(): void {
    this.#cut = false;
    for (const link of [...this.#links]) {
      if (link.closed) {
        this.#closed(link, link.closed);
        continue;
      }
      if (!link.upstream) {
        this.#open(link);
      } else {
        for (const chunk of link.held.toServer.splice(0)) link.upstream.write(chunk);
        link.upstream.resume();
      }
      for (const chunk of link.held.toClient.splice(0)) link.client.write(chunk);
      link.client.resume();
    }
  }

  async close(): Promise<void> {
    for (const link of this.#links) {
      link.client.destroy();
      link.upstream?.destroy();
    }
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
