// Counts this process's socket writes (every net.Socket, so libp2p's TCP connections too), for
// figures such as "socket writes per Raft commit": unlike latency on a shared machine, a count
// does not move with the load, so a change to the frame path shows in it at once.
import { Socket } from 'node:net';

let writes = 0;
let installed = false;

/** Starts counting (once per process; later calls do nothing). */
export function countSocketWrites(): void {
  if (installed) return;
  installed = true;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the socket as `this`
  const write = Socket.prototype.write;
  // The bench's own instrument, never loaded by a node: wraps write, changes nothing it does.
  Socket.prototype.write = function (this: Socket, ...args: Parameters<Socket['write']>): boolean {
    writes++;
    return write.apply(this, args);
  } as Socket['write'];
}

/** Socket writes counted so far. */
export function socketWrites(): number {
  return writes;
}
