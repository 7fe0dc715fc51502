/**
 * A work lane of the crawler: a FIFO of nodes, a bound on tasks in flight, and a bound per IP
 * (politeness towards hosts that run many nodes: their extra nodes wait, parked, for a turn).
 */
export interface LaneItem {
  node: { ip: string }
}

/** One lane: queued items run as the global and per-IP bounds allow (see the module comment). */
export class Lane<T extends LaneItem> {
  private queue: T[] = []
  private head = 0
  private readonly parked = new Map<string, T[]>()
  private readonly ipInFlight = new Map<string, number>()
  inFlight = 0

  constructor(
    /** tasks in flight allowed now (may change with the other lane's backlog) */
    private readonly limit: () => number,
    private readonly perIP: number,
    private readonly run: (item: T) => Promise<void>,
    /** after every task: the owner pumps its lanes and checks whether the crawl is over */
    private readonly settled: () => void,
    private readonly stopped: () => boolean,
  ) {}

  push(item: T): void {
    this.queue.push(item)
  }

  get queued(): number {
    let n = this.queue.length - this.head
    for (const l of this.parked.values()) n += l.length
    return n
  }

  get idle(): boolean {
    return this.inFlight === 0 && this.head >= this.queue.length && this.parked.size === 0
  }

  /** start tasks while there is room */
  pump(): void {
    while (!this.stopped() && this.inFlight < this.limit() && this.head < this.queue.length) {
      const item = this.queue[this.head++]!
      if (this.head > 4096 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head)
        this.head = 0
      }
      const ip = item.node.ip
      if ((this.ipInFlight.get(ip) ?? 0) >= this.perIP) {
        const l = this.parked.get(ip)
        if (l) l.push(item)
        else this.parked.set(ip, [item])
        continue
      }
      this.launch(item)
    }
  }

  private launch(item: T): void {
    const ip = item.node.ip
    this.ipInFlight.set(ip, (this.ipInFlight.get(ip) ?? 0) + 1)
    this.inFlight++
    void this.run(item).finally(() => {
      this.inFlight--
      const left = (this.ipInFlight.get(ip) ?? 1) - 1
      if (left > 0) this.ipInFlight.set(ip, left)
      else this.ipInFlight.delete(ip)
      // a parked node of this IP goes first: its turn came while it waited
      const l = this.parked.get(ip)
      if (l && !this.stopped()) {
        const next = l.shift()!
        if (l.length === 0) this.parked.delete(ip)
        this.launch(next)
      }
      this.settled()
    })
  }
}
