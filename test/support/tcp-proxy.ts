import net from 'node:net';

/**
 * A TCP proxy the test controls, between the app and a server (PostgreSQL, Redis): `cut()` ends every connection
 * through it and refuses new ones, as a server that went down; `hang()` keeps every connection and accepts new ones
 * but passes no byte either way, as a server that froze; `restore()` lets new connections through again; `thaw()`
 * resumes the frozen ones.
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  const pairs: [net.Socket, net.Socket][] = [];
  /** Clients accepted while frozen, not yet connected upstream. */
  const waiting: net.Socket[] = [];
  let open = true;
  let frozen = false;
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  const connect = (client: net.Socket) => {
    const upstream = net.connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream).pipe(client);
    pairs.push([client, upstream]);
  };
  const server = net.createServer((client) => {
    if (!open) return client.destroy();
    track(client);
    if (!frozen) return connect(client);
    waiting.push(client);
    client.pause();
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    /** `url` with its host and port replaced by the proxy's. */
    through(url: string): string {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
    },
    hang() {
      frozen = true;
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    /** After `cut()`; after `hang()`, connections opened meanwhile stay frozen (as a restarted server's peers). */
    restore() {
      open = true;
      frozen = false;
    },
    /**
     * After `hang()`: the server wakes up (as a process resumed after SIGSTOP). Every connection passes bytes again,
     * those written meanwhile included, and connections accepted while frozen reach the server.
     */
    thaw() {
      frozen = false;
      for (const [client, upstream] of pairs) {
        if (client.destroyed || upstream.destroyed) continue;
        client.pipe(upstream).pipe(client);
      }
      for (const client of waiting.splice(0)) if (!client.destroyed) connect(client);
    },
    close() {
      this.cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
