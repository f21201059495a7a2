import { createServer } from 'node:net';

/** Finds a free TCP port by letting the kernel pick one for a throwaway listener. */
export async function getFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen({ host, port: 0, exclusive: true }, () => {
      const address = probe.address();
      if (address === null || typeof address === 'string') {
        probe.close();
        reject(new Error('Could not read the address of the port probe'));
        return;
      }
      probe.close(() => resolve(address.port));
    });
  });
}
