/** Counts of live mediasoup objects on this instance. */
export interface SfuStats {
  workers: number;
  routers: number;
  transports: number;
  producers: number;
  consumers: number;
  /** Pipe transports to and from other instances (media of calls served by several). */
  pipes: number;
}
