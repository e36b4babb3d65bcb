/**
 * Change events on Redis: the apply script PUBLISHes each batch it writes
 * (atomic with the write: a script runs whole), and one dedicated connection
 * SUBSCRIBEs while anyone listens. Pub/sub keeps nothing: a subscriber that
 * is disconnected misses what was published meanwhile (ioredis resubscribes
 * on reconnect), which watchers see as gaps at the next version they hear.
 */
import type { Redis } from 'ioredis';

/** The subscribing connection of one store. */
export class RedisSubscriber {
  private readonly onError = (): void => undefined;

  private constructor(private readonly client: Redis) {}

  /** Connects `client` (a connection of its own) and subscribes to `channel`. */
  static async start(client: Redis, channel: string, onMessage: (text: string) => void): Promise<RedisSubscriber> {
    const subscriber = new RedisSubscriber(client);
    // A broken connection reconnects by itself; its errors must not crash the process.
    client.on('error', subscriber.onError);
    client.on('message', (from: string, text: string) => {
      if (from === channel) onMessage(text);
    });
    try {
      if (client.status === 'wait') await client.connect();
      await client.subscribe(channel);
    } catch (error) {
      client.disconnect();
      throw error;
    }
    return subscriber;
  }

  stop(): void {
    this.client.disconnect();
  }
}
