/**
 * Benchmark child: accepts one TCP connection on a free loopback port (printed on stdout as
 * `port N`), reads until the peer closes, and prints `bytes N seconds S` measured from the first
 * byte to the close: the raw TCP baseline between two Node processes.
 */
import { createServer } from 'node:net';

const server = createServer((socket) => {
  let bytes = 0;
  let first = 0;
  socket.on('data', (chunk: Buffer) => {
    if (bytes === 0) first = performance.now();
    bytes += chunk.length;
  });
  socket.on('end', () => {
    console.log(`bytes ${bytes} seconds ${(performance.now() - first) / 1000}`);
    socket.end();
    server.close();
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`port ${typeof address === 'object' && address ? address.port : 0}`);
});
