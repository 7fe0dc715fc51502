// A node with a sub-protocol of its own: two servers on loopback, one dials the other, and their
// "counter" protocol passes a number back and forth until it reaches 5.
import { Server, randomPrivateKey } from 'ethp2p'

const counter = {
  name: 'counter',
  version: 1,
  length: 1,
  async run(peer, rw) {
    if (!peer.inbound) await rw.write(0, Uint8Array.of(0))
    for await (const msg of rw) {
      const n = msg.payload[0]
      console.log(`${peer.inbound ? 'listener' : 'dialler'} got ${n}`)
      if (n >= 5) return peer.disconnect()
      await rw.write(0, Uint8Array.of(n + 1))
    }
  },
}

const a = new Server({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, protocols: [counter], noDiscovery: true })
const b = new Server({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, protocols: [counter], noDiscovery: true })
await a.start()
await b.start()
const done = new Promise((resolve) => a.once('peer:removed', resolve))
b.addStatic(a.localNode)
await done
await Promise.all([a.stop(), b.stop()])
console.log('counter: done')
