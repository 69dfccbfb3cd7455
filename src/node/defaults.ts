// A node's default addresses and data directory, in a module of their own with no imports: the
// CLI shows them in --help without loading the option parser (zod, multiaddr).
export const DEFAULT_DATA_DIR = 'meshrun-data';
/** Loopback: a node reachable from other machines is a choice, made with --listen and --swarm-key. */
export const DEFAULT_LISTEN = '/ip4/127.0.0.1/tcp/7000';
export const DEFAULT_API = '127.0.0.1:7070';
