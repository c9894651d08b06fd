/** For the tests of a store that goes away and comes back: the gateway behind a proxy a test can cut. */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** A TCP proxy in front of the gateway that a test can cut (connections reset, port closed) and restore. */
export class CuttableProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  /** Called with the bytes forwarded upstream so far on each chunk, to cut mid-upload. */
  onUpstreamBytes: ((total: number) => void) | undefined;
  private forwarded = 0;

  constructor(private readonly upstream: URL) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection(Number(this.upstream.port), this.upstream.hostname);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.on('data', (chunk: Buffer) => {
        this.forwarded += chunk.length;
        this.onUpstreamBytes?.(this.forwarded);
      });
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    this.server = server;
  }

  cut(): void {
    this.server?.close();
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
  }
}
