import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createSocket, type Socket } from 'node:dgram'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extIP, NATError, parseNAT, pmpNAT, PortMapper, upnpNAT, type NAT, type NATProtocol, type PortMapping } from '../../src/p2p/nat.js'

// The mapper's refresh timers are unref'd (they must never keep a node alive), so a test waiting on a
// refresh would see its process end under it: hold the event loop open for the whole file.
let holdLoop: NodeJS.Timeout
before(() => {
  holdLoop = setInterval(() => undefined, 60_000)
})
after(() => clearInterval(holdLoop))

// Fake gateways on loopback: a NAT-PMP responder (RFC 6886) on 127.0.0.1:5351, the port the library
// always sends to, and a UPnP IGD v2 (device description + SOAP control URL) over HTTP.

interface PMPRequest {
  op: number
  internalPort?: number
  externalPort?: number
  lifetime?: number
}

class FakePMP {
  readonly requests: PMPRequest[] = []
  /** drop requests, as a gateway that is gone would */
  silent = false
  /** answer map requests with this result code (0 = success) */
  mapResult = 0
  externalIP = [203, 0, 113, 7] as const
  private readonly sock: Socket = createSocket('udp4')
  private waiters: (() => void)[] = []

  async start(): Promise<void> {
    this.sock.on('message', (msg, from) => this.onMessage(msg, from.address, from.port))
    await new Promise<void>((resolve, reject) => {
      this.sock.once('error', reject)
      this.sock.bind(5351, '127.0.0.1', () => resolve())
    })
  }

  private onMessage(msg: Buffer, host: string, port: number): void {
    if (msg.length < 2 || msg[0] !== 0) return
    const op = msg[1]!
    if (op === 0 && msg.length === 2) {
      this.record({ op })
      if (this.silent) return
      const res = Buffer.alloc(12)
      res[1] = 128
      res.writeUInt32BE(1000, 4)
      res.set(this.externalIP, 8)
      this.sock.send(res, port, host)
    } else if ((op === 1 || op === 2) && msg.length === 12) {
      const req = { op, internalPort: msg.readUInt16BE(4), externalPort: msg.readUInt16BE(6), lifetime: msg.readUInt32BE(8) }
      this.record(req)
      if (this.silent) return
      const res = Buffer.alloc(16)
      res[1] = 128 + op
      res.writeUInt16BE(this.mapResult, 2)
      res.writeUInt32BE(1000, 4)
      res.writeUInt16BE(req.internalPort, 8)
      res.writeUInt16BE(req.lifetime === 0 ? 0 : req.externalPort, 10)
      res.writeUInt32BE(req.lifetime, 12)
      this.sock.send(res, port, host)
    }
  }

  private record(r: PMPRequest): void {
    this.requests.push(r)
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  /** resolves once `pred` holds over the requests seen; checked after each request */
  async until(pred: (reqs: PMPRequest[]) => boolean, maxRequests = 100): Promise<void> {
    for (let i = 0; i < maxRequests && !pred(this.requests); i++) await new Promise<void>((r) => this.waiters.push(r))
    if (!pred(this.requests)) throw new Error('condition not reached')
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.sock.close(() => resolve()))
  }
}

const WANIP2 = 'urn:schemas-upnp-org:service:WANIPConnection:2'

interface SOAPCall {
  action: string
  args: Record<string, string>
}

class FakeIGD {
  readonly calls: SOAPCall[] = []
  /** answer AddAnyPortMapping with a UPnP fault */
  fault = false
  private readonly server: Server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => (body += c))
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/desc.xml') {
        res.writeHead(200, { 'content-type': 'text/xml' }).end(DESCRIPTION)
        return
      }
      if (req.method !== 'POST' || req.url !== '/ctl') {
        res.writeHead(404).end()
        return
      }
      const action = /#(\w+)"?$/.exec(String(req.headers.soapaction))?.[1] ?? ''
      const args: Record<string, string> = {}
      for (const m of body.matchAll(/<(New\w+)>([^<]*)<\/\1>/g)) args[m[1]!] = m[2]!
      this.calls.push({ action, args })
      this.notify()
      if (action === 'AddAnyPortMapping' && this.fault) {
        res.writeHead(500, { 'content-type': 'text/xml' }).end(envelope(`<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>718</errorCode><errorDescription>ConflictInMappingEntry</errorDescription></UPnPError></detail></s:Fault>`))
        return
      }
      const out: Record<string, string> = {
        GetExternalIPAddress: '<NewExternalIPAddress>198.51.100.9</NewExternalIPAddress>',
        AddAnyPortMapping: `<NewReservedPort>${Number(args.NewExternalPort) + 1}</NewReservedPort>`,
        DeletePortMapping: '',
      }
      if (!(action in out)) {
        res.writeHead(500, { 'content-type': 'text/xml' }).end(envelope('<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring></s:Fault>'))
        return
      }
      res.writeHead(200, { 'content-type': 'text/xml; charset="utf-8"' }).end(envelope(`<u:${action}Response xmlns:u="${WANIP2}">${out[action]}</u:${action}Response>`))
    })
  })
  private waiters: (() => void)[] = []

  async start(): Promise<URL> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()))
    return new URL(`http://127.0.0.1:${(this.server.address() as AddressInfo).port}/desc.xml`)
  }

  private notify(): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  async until(pred: (calls: SOAPCall[]) => boolean, maxCalls = 100): Promise<void> {
    for (let i = 0; i < maxCalls && !pred(this.calls); i++) await new Promise<void>((r) => this.waiters.push(r))
    if (!pred(this.calls)) throw new Error('condition not reached')
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

function envelope(body: string): string {
  return `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>${body}</s:Body></s:Envelope>`
}

const DESCRIPTION = `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
  <specVersion><major>1</major><minor>0</minor></specVersion>
  <device>
    <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType>
    <friendlyName>fake IGD</friendlyName>
    <UDN>uuid:00000000-0000-0000-0000-000000000001</UDN>
    <deviceList><device>
      <deviceType>urn:schemas-upnp-org:device:WANDevice:2</deviceType>
      <deviceList><device>
        <deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:2</deviceType>
        <serviceList><service>
          <serviceType>${WANIP2}</serviceType>
          <serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>
          <SCPDURL>/scpd.xml</SCPDURL>
          <controlURL>/ctl</controlURL>
          <eventSubURL>/evt</eventSubURL>
        </service></serviceList>
      </device></deviceList>
    </device></deviceList>
  </device>
</root>`

const isNATError = (code: NATError['code']) => (e: unknown) => e instanceof NATError && e.code === code

describe('parseNAT', () => {
  it('accepts the mechanisms geth does, case-insensitively', () => {
    assert.equal(parseNAT('none'), null)
    assert.equal(parseNAT('OFF'), null)
    assert.equal(parseNAT(''), null)
    assert.equal(parseNAT('any')?.name, 'any')
    assert.equal(parseNAT('UPnP')?.name, 'upnp')
    assert.equal(parseNAT('pmp')?.name, 'pmp')
    assert.equal(parseNAT('natpmp:192.168.1.1')?.name, 'pmp(192.168.1.1)')
    assert.equal(parseNAT('extip:1.2.3.4')?.name, 'extip(1.2.3.4)')
    assert.equal(parseNAT('ExtIP:2001:db8::1')?.name, 'extip(2001:db8::1)')
  })

  it('rejects anything else with NATError SPEC', () => {
    for (const bad of ['extip', 'extip:', 'extip:example.org', 'extip:1.2.3', 'pmp:gateway', 'pmp:', 'stunx', 'upnp-ish']) {
      assert.throws(() => parseNAT(bad), isNATError('SPEC'), bad)
    }
    assert.throws(() => extIP('nope'), isNATError('SPEC'))
  })
})

describe('extip', () => {
  it('reports the given address and treats ports as forwarded by hand', async () => {
    const nat = extIP('203.0.113.5')
    assert.equal(await nat.externalIP(), '203.0.113.5')
    assert.equal(await nat.map('tcp', 30303, 30305, 'ethp2p', 60_000), 30305)
    await nat.unmap('udp', 30303, 30303)
    const pm = new PortMapper(nat, { tcpPort: 30303, udpPort: 30301 })
    const maps = await pm.start()
    assert.deepEqual(maps, [
      { protocol: 'tcp', internalPort: 30303, externalPort: 30303 },
      { protocol: 'udp', internalPort: 30301, externalPort: 30301 },
    ])
    assert.equal(pm.externalIP, '203.0.113.5')
    await pm.stop()
    await nat.close()
  })
})

describe('PortMapper (in-memory NAT)', () => {
  /** a NAT whose answers the test scripts */
  class ScriptedNAT implements NAT {
    readonly name = 'scripted'
    failMap = true
    readonly mapped: string[] = []
    readonly unmapped: string[] = []
    /** map calls never answer until aborted */
    hang = false
    async externalIP(): Promise<string> {
      return '192.0.2.1'
    }
    map(protocol: NATProtocol, internalPort: number, externalPort: number, _n: string, _l: number, signal?: AbortSignal): Promise<number> {
      if (this.hang) return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }))
      if (this.failMap) return Promise.reject(new NATError('GATEWAY', 'refused'))
      this.mapped.push(`${protocol}:${internalPort}`)
      return Promise.resolve(externalPort)
    }
    async unmap(protocol: NATProtocol, internalPort: number): Promise<void> {
      this.unmapped.push(`${protocol}:${internalPort}`)
    }
    async close(): Promise<void> {}
  }

  it('reports failures without throwing and retries at the next refresh', async () => {
    const nat = new ScriptedNAT()
    const pm = new PortMapper(nat, { tcpPort: 1000, udpPort: 1001, refreshMs: 5, lifetimeMs: 1000 })
    const failed: [NATProtocol, number, Error][] = []
    pm.on('mapFailed', (p, port, err) => failed.push([p, port, err]))
    assert.deepEqual(await pm.start(), [])
    assert.equal(failed.length, 2)
    assert.ok(failed.every(([, , e]) => e instanceof NATError))
    nat.failMap = false
    const [m] = (await once(pm, 'mapped')) as [PortMapping]
    assert.equal(m.protocol, 'tcp')
    await pm.stop()
    // whatever was granted is removed; udp may or may not have been mapped before stop
    const granted = [...new Set(nat.mapped)].sort()
    assert.ok(granted.includes('tcp:1000'))
    assert.deepEqual(nat.unmapped.sort(), granted)
  })

  it('removes a mapping whose request stop cut short, and stops on the start signal', async () => {
    const nat = new ScriptedNAT()
    nat.hang = true
    const ac = new AbortController()
    const pm = new PortMapper(nat, { tcpPort: 2000 })
    const started = pm.start(ac.signal)
    ac.abort()
    assert.deepEqual(await started, [])
    await pm.stop()
    assert.deepEqual(nat.unmapped, ['tcp:2000'])
    await assert.rejects(pm.start(), /already started/)
  })

  it('refuses a refresh period that would let mappings lapse', () => {
    assert.throws(() => new PortMapper(extIP('1.2.3.4'), { lifetimeMs: 1000, refreshMs: 1000 }), RangeError)
  })
})

describe('NAT-PMP against a fake gateway on 127.0.0.1:5351', () => {
  const gw = new FakePMP()
  before(() => gw.start())
  after(() => gw.close())

  it('reads the external address, maps TCP and UDP with the lifetime in seconds, and unmaps', async () => {
    const nat = parseNAT('pmp:127.0.0.1', { requestTimeoutMs: 2000 })!
    try {
      assert.equal(await nat.externalIP(), '203.0.113.7')
      gw.requests.length = 0
      assert.equal(await nat.map('tcp', 30303, 30303, 'ethp2p', 20 * 60_000), 30303)
      assert.equal(await nat.map('udp', 30301, 30301, 'ethp2p', 20 * 60_000), 30301)
      await nat.unmap('tcp', 30303, 30303)
      assert.deepEqual(gw.requests, [
        { op: 2, internalPort: 30303, externalPort: 30303, lifetime: 1200 },
        { op: 1, internalPort: 30301, externalPort: 30301, lifetime: 1200 },
        { op: 2, internalPort: 30303, externalPort: 30303, lifetime: 0 },
      ])
    } finally {
      await nat.close()
    }
  })

  it('turns a refusal into NATError GATEWAY', async () => {
    const nat = pmpNAT({ pmpGateways: ['127.0.0.1'], requestTimeoutMs: 2000 })
    gw.mapResult = 2 // not authorized
    try {
      await assert.rejects(nat.map('tcp', 1, 1, 'x', 60_000), isNATError('GATEWAY'))
    } finally {
      gw.mapResult = 0
      await nat.close()
    }
  })

  it('times out on a silent gateway (typed), then recovers when it answers again', async () => {
    const nat = pmpNAT({ pmpGateways: ['127.0.0.1'], requestTimeoutMs: 300 })
    try {
      assert.equal(await nat.externalIP(), '203.0.113.7')
      gw.silent = true
      await assert.rejects(nat.map('udp', 5, 5, 'x', 60_000), isNATError('TIMEOUT'))
      gw.silent = false
      assert.equal(await nat.map('udp', 5, 5, 'x', 60_000), 5)
    } finally {
      gw.silent = false
      await nat.close()
    }
  })

  it('finds no gateway when none answers', async () => {
    gw.silent = true
    const nat = pmpNAT({ pmpGateways: ['127.0.0.1'], requestTimeoutMs: 200 })
    try {
      await assert.rejects(nat.externalIP(), isNATError('NO_GATEWAY'))
    } finally {
      gw.silent = false
      await nat.close()
    }
    await assert.rejects(nat.externalIP(), isNATError('CLOSED'))
  })

  it('PortMapper maps both ports, refreshes them, and deletes them on stop', async () => {
    const nat = pmpNAT({ pmpGateways: ['127.0.0.1'], requestTimeoutMs: 2000 })
    const pm = new PortMapper(nat, { tcpPort: 30303, udpPort: 30301, lifetimeMs: 2000, refreshMs: 20 })
    try {
      gw.requests.length = 0
      const maps = await pm.start()
      assert.deepEqual(maps.map((m) => m.protocol), ['tcp', 'udp'])
      assert.equal(pm.externalIP, '203.0.113.7')
      const maps2 = (op: number) => gw.requests.filter((r) => r.op === op && r.lifetime === 2).length
      await gw.until(() => maps2(1) >= 3 && maps2(2) >= 3)
      await pm.stop()
      const deletes = gw.requests.filter((r) => r.lifetime === 0)
      assert.deepEqual(deletes.map((r) => [r.op, r.internalPort]).sort(), [[1, 30301], [2, 30303]])
      // nothing is sent once stopped: the next request is a probe of our own
      const seen = gw.requests.length
      assert.equal(await nat.externalIP(), '203.0.113.7')
      assert.equal(gw.requests.length, seen + 1)
    } finally {
      await pm.stop()
      await nat.close()
    }
  })

  it('PortMapper survives the gateway going away', async () => {
    const nat = pmpNAT({ pmpGateways: ['127.0.0.1'], requestTimeoutMs: 200 })
    const pm = new PortMapper(nat, { tcpPort: 30303, udpPort: 30301 })
    const failures: Error[] = []
    pm.on('mapFailed', (_p, _port, err) => failures.push(err))
    try {
      assert.equal(await nat.externalIP(), '203.0.113.7')
      gw.silent = true
      assert.deepEqual(await pm.start(), [])
      assert.equal(failures.length, 2)
      assert.ok(failures.every(isNATError('TIMEOUT')))
      await pm.stop()
    } finally {
      gw.silent = false
      await nat.close()
    }
  })
})

describe('UPnP against a fake IGD v2 on loopback', () => {
  const igd = new FakeIGD()
  let location: URL
  before(async () => {
    location = await igd.start()
  })
  after(() => igd.close())

  it('reads the external address, maps (the gateway may grant another port) and unmaps', async () => {
    const nat = upnpNAT({ upnpLocation: location, requestTimeoutMs: 2000 })
    try {
      assert.equal(await nat.externalIP(), '198.51.100.9')
      igd.calls.length = 0
      assert.equal(await nat.map('udp', 30301, 30301, 'ethp2p discovery', 20 * 60_000), 30302)
      const add = igd.calls.find((c) => c.action === 'AddAnyPortMapping')!
      assert.equal(add.args.NewProtocol, 'UDP')
      assert.equal(add.args.NewInternalPort, '30301')
      assert.equal(add.args.NewInternalClient, '127.0.0.1')
      assert.equal(add.args.NewPortMappingDescription, 'ethp2p discovery')
      assert.equal(add.args.NewLeaseDuration, '3600') // the library's minimum lease
      await nat.unmap('udp', 30301, 30302)
      assert.ok(igd.calls.some((c) => c.action === 'DeletePortMapping' && c.args.NewExternalPort === '30301'))
    } finally {
      await nat.close()
    }
  })

  it('turns a SOAP fault into NATError GATEWAY', async () => {
    const nat = upnpNAT({ upnpLocation: location, requestTimeoutMs: 2000 })
    igd.fault = true
    try {
      await assert.rejects(nat.map('tcp', 1, 1, 'x', 60_000), (e: unknown) => isNATError('GATEWAY')(e) && /718/.test((e as Error).message))
    } finally {
      igd.fault = false
      await nat.close()
    }
  })

  it('PortMapper refreshes both mappings and deletes them on stop', async () => {
    const nat = upnpNAT({ upnpLocation: location, requestTimeoutMs: 2000 })
    const pm = new PortMapper(nat, { tcpPort: 30303, udpPort: 30301, lifetimeMs: 2000, refreshMs: 20 })
    try {
      igd.calls.length = 0
      const maps = await pm.start()
      assert.deepEqual(maps, [
        { protocol: 'tcp', internalPort: 30303, externalPort: 30304 },
        { protocol: 'udp', internalPort: 30301, externalPort: 30302 },
      ])
      const adds = (proto: string) => igd.calls.filter((c) => c.action === 'AddAnyPortMapping' && c.args.NewProtocol === proto).length
      await igd.until(() => adds('TCP') >= 3 && adds('UDP') >= 3)
      // a refresh asks for the port granted before, so the endpoint stays put
      assert.ok(igd.calls.some((c) => c.action === 'AddAnyPortMapping' && c.args.NewProtocol === 'TCP' && c.args.NewExternalPort === '30304'))
      await pm.stop()
      const deleted = igd.calls.filter((c) => c.action === 'DeletePortMapping').map((c) => c.args.NewExternalPort)
      assert.ok(deleted.includes('30303') && deleted.includes('30301'), `deleted ${deleted.join(',')}`)
    } finally {
      await pm.stop()
      await nat.close()
    }
  })

  it('fails with a typed error when the gateway is gone', async () => {
    const gone = new FakeIGD()
    const where = await gone.start()
    await gone.close()
    const nat = upnpNAT({ upnpLocation: where, requestTimeoutMs: 2000 })
    try {
      await assert.rejects(nat.externalIP(), isNATError('GATEWAY'))
      const pm = new PortMapper(nat, { tcpPort: 1 })
      const failed = once(pm, 'mapFailed')
      assert.deepEqual(await pm.start(), [])
      const [, , err] = (await failed) as [NATProtocol, number, Error]
      assert.ok(isNATError('GATEWAY')(err))
      await pm.stop()
    } finally {
      await nat.close()
    }
  })
})
