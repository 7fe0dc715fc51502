/**
 * A node with its own sub-protocol: `kv/1`, a key-value lookup. GET (code 0) carries a key; VALUE
 * (code 1) answers with the value, empty when the key is unknown. Protocols are matched by name and
 * version in the Hello, so `kv/1` can run beside eth on the same connection.
 *
 * Two servers on loopback: one holds a table, the other dials it, asks three keys and hangs up.
 */
import { DisconnectReason, Server, disconnectReasonText, formatEnode, randomPrivateKey, type Protocol } from 'ethp2p'

const GET = 0
const VALUE = 1
const encode = (s: string): Uint8Array => new TextEncoder().encode(s)
const decode = (b: Uint8Array): string => new TextDecoder().decode(b)

function kv(table: ReadonlyMap<string, string>, questions: readonly string[]): Protocol {
  return {
    name: 'kv',
    version: 1,
    length: 2,
    // runs once per peer that shares kv/1, on both ends of the connection
    async run(peer, rw) {
      if (peer.inbound) {
        // the listening side answers every GET until the peer goes away
        for await (const msg of rw) {
          // throwing ends the peer with SubprotocolError
          if (msg.code !== GET) throw new Error(`kv: unexpected message ${msg.code}`)
          await rw.write(VALUE, encode(table.get(decode(msg.payload)) ?? ''))
        }
        return
      }
      // the dialling side asks, one question at a time, then says goodbye
      for (const key of questions) {
        await rw.write(GET, encode(key))
        const reply = await rw.read()
        console.log(`${key} = ${JSON.stringify(decode(reply.payload))}`)
      }
      peer.disconnect(DisconnectReason.Requested)
    },
  }
}

const table = new Map([
  ['greeting', 'hello'],
  ['answer', '42'],
])
const holder = new Server({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, protocols: [kv(table, [])], noDiscovery: true })
const asker = new Server({ privateKey: randomPrivateKey(), host: '127.0.0.1', port: 0, protocols: [kv(new Map(), ['greeting', 'answer', 'missing'])], noDiscovery: true })
await holder.start()
await asker.start()
const left = new Promise<void>((resolve) =>
  holder.once('peer:removed', (peer, end) => {
    console.log(`peer left: ${disconnectReasonText(end.reason)}${end.remoteRequested ? ' (its request)' : ''}`)
    resolve()
  }),
)
console.log(`holder listening as ${formatEnode(holder.localNode)}`)
asker.addStatic(holder.localNode) // a static node is dialled, and redialled should it drop
await left
await Promise.all([holder.stop(), asker.stop()])
