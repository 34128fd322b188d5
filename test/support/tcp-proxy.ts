import net from 'node:net';

/**
 * A TCP proxy the test controls, between the app and a server (PostgreSQL): `cut()` ends every connection through it
 * and refuses new ones, as a server that went down; `hang()` keeps every connection and accepts new ones but passes
 * no byte either way, as a server that froze; `restore()` lets connections through again.
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  const pairs: [net.Socket, net.Socket][] = [];
  let open = true;
  let frozen = false;
  const server = net.createServer((client) => {
    if (!open) return client.destroy();
    if (frozen) {
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      client.on('error', () => undefined);
      return client.pause();
    }
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    pairs.push([client, upstream]);
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
    close() {
      this.cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
