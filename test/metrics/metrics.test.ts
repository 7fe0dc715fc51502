import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { register as globalRegistry } from 'prom-client'
import { MetricsServerError, P2PMetrics, parseListenAddr, serveMetrics, type DiscoveryStats, type MetricsServer } from '../../src/metrics/metrics.js'

/** value of one sample line `name{labels} value` in Prometheus text output */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const sp = line.lastIndexOf(' ')
    if (line.slice(0, sp) === series) return Number(line.slice(sp + 1))
  }
  return undefined
}

describe('metrics', () => {
  const servers: MetricsServer[] = []
  after(async () => {
    for (const s of servers) await s.close()
  })

  const stats: DiscoveryStats = { packetsIn: 10, packetsOut: 7, bytesIn: 1500, bytesOut: 900, dropped: { verify: 3, rate: 2, 'too-large': 0 }, timeouts: 4, pending: 5 }
  const table = { size: 42 }

  it('pulls live values at scrape time and reports pushed events', async () => {
    let peers = { inbound: 2, outbound: 3 }
    const m = new P2PMetrics({ peers: () => peers })
    m.attach({ discovery: () => ({ stats, table }) })
    m.dialAttempted()
    m.dialAttempted()
    m.dialSucceeded()
    m.dialFailed('timeout')
    m.handshake(true)
    m.handshake(false)
    m.handshake(false)
    m.bytes('in', 100)
    m.bytes('out', 50)
    let text = await m.registry.metrics()
    const want: [string, number][] = [
      ['ethp2p_peers{direction="inbound"}', 2],
      ['ethp2p_peers{direction="outbound"}', 3],
      ['ethp2p_dial_attempts_total', 2],
      ['ethp2p_dial_successes_total', 1],
      ['ethp2p_dial_failures_total{reason="timeout"}', 1],
      ['ethp2p_handshakes_total{result="ok"}', 1],
      ['ethp2p_handshakes_total{result="failed"}', 2],
      ['ethp2p_rlpx_bytes_total{direction="in"}', 100],
      ['ethp2p_rlpx_bytes_total{direction="out"}', 50],
      ['ethp2p_discovery_packets_total{direction="in"}', 10],
      ['ethp2p_discovery_packets_total{direction="out"}', 7],
      ['ethp2p_discovery_bytes_total{direction="in"}', 1500],
      ['ethp2p_discovery_bytes_total{direction="out"}', 900],
      ['ethp2p_discovery_verification_failures_total', 3],
      ['ethp2p_discovery_dropped_total{reason="verify"}', 3],
      ['ethp2p_discovery_dropped_total{reason="rate"}', 2],
      ['ethp2p_discovery_dropped_total{reason="too-large"}', 0],
      ['ethp2p_discovery_timeouts_total', 4],
      ['ethp2p_discovery_pending_requests', 5],
      ['ethp2p_discovery_table_size', 42],
    ]
    for (const [series, v] of want) assert.equal(sample(text, series), v, series)

    // a second scrape sees the objects' new values, not a sum
    stats.packetsIn = 11
    table.size = 43
    peers = { inbound: 0, outbound: 1 }
    text = await m.registry.metrics()
    assert.equal(sample(text, 'ethp2p_discovery_packets_total{direction="in"}'), 11)
    assert.equal(sample(text, 'ethp2p_discovery_table_size'), 43)
    assert.equal(sample(text, 'ethp2p_peers{direction="inbound"}'), 0)
  })

  it('keeps its metrics out of the global registry, so two instances coexist', async () => {
    const a = new P2PMetrics()
    const b = new P2PMetrics()
    a.dialAttempted()
    assert.equal(sample(await b.registry.metrics(), 'ethp2p_dial_attempts_total'), 0)
    assert.equal(globalRegistry.getSingleMetric('ethp2p_dial_attempts_total'), undefined)
  })

  it('omits pulled series while no source is attached', async () => {
    const text = await new P2PMetrics().registry.metrics()
    assert.match(text, /# TYPE ethp2p_discovery_table_size gauge/)
    assert.equal(sample(text, 'ethp2p_discovery_packets_total{direction="in"}'), undefined)
  })

  it('serves GET /metrics over HTTP and 404 for other paths', async () => {
    const m = new P2PMetrics({ discovery: () => ({ stats, table }) })
    m.dialFailed('too-many-peers')
    const s = await serveMetrics('127.0.0.1:0', m.registry)
    servers.push(s)
    assert.ok(s.port > 0)
    const res = await fetch(`http://127.0.0.1:${s.port}/metrics`)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/)
    const text = await res.text()
    assert.equal(sample(text, 'ethp2p_discovery_table_size'), table.size)
    assert.equal(sample(text, 'ethp2p_dial_failures_total{reason="too-many-peers"}'), 1)
    const other = await fetch(`http://127.0.0.1:${s.port}/`)
    assert.equal(other.status, 404)
    await other.text()
    const post = await fetch(`http://127.0.0.1:${s.port}/metrics`, { method: 'POST' })
    assert.equal(post.status, 404)
    await post.text()
  })

  it('answers 500 when a collect hook throws, and keeps serving', async () => {
    let fail = true
    const m = new P2PMetrics({
      discovery: () => {
        if (fail) throw new Error('source broke')
        return { stats, table }
      },
    })
    const s = await serveMetrics('127.0.0.1:0', m.registry)
    servers.push(s)
    const bad = await fetch(`http://127.0.0.1:${s.port}/metrics`)
    assert.equal(bad.status, 500)
    assert.match(await bad.text(), /source broke/)
    fail = false
    const good = await fetch(`http://127.0.0.1:${s.port}/metrics`)
    assert.equal(good.status, 200)
    await good.text()
  })

  it('stops when the signal aborts', async () => {
    const ac = new AbortController()
    const s = await serveMetrics('127.0.0.1:0', new P2PMetrics().registry, ac.signal)
    servers.push(s)
    ac.abort()
    await s.close() // the same close the abort started
    await assert.rejects(fetch(`http://127.0.0.1:${s.port}/metrics`))
  })

  it('rejects bad addresses and busy ports with a typed error', async () => {
    for (const bad of ['9090', 'host:9090', '127.0.0.1:99999', '127.0.0.1:', '[::1:9090']) {
      assert.throws(() => parseListenAddr(bad), MetricsServerError, bad)
    }
    assert.deepEqual(parseListenAddr('[::1]:9090'), { host: '::1', port: 9090 })
    assert.deepEqual(parseListenAddr(':9090'), { host: '', port: 9090 })
    const s = await serveMetrics('127.0.0.1:0', new P2PMetrics().registry)
    servers.push(s)
    await assert.rejects(serveMetrics(`127.0.0.1:${s.port}`, new P2PMetrics().registry), MetricsServerError)
    await assert.rejects(serveMetrics('127.0.0.1:0', new P2PMetrics().registry, AbortSignal.abort()))
  })
})
