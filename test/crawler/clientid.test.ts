import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { MAX_CLIENT_ID_LENGTH, parseClientId, type ClientId } from '../../src/crawler/clientid.js'

const parsed = (id: string): Omit<ClientId, 'raw'> => {
  const { raw, ...rest } = parseClientId(id)
  assert.equal(raw, id.trim())
  return rest
}

describe('client id parsing', () => {
  it('geth: version with build, platform, Go runtime', () => {
    assert.deepEqual(parsed('Geth/v1.14.11-stable-f3c696fa/linux-amd64/go1.23.2'), {
      name: 'geth',
      version: '1.14.11',
      build: 'stable-f3c696fa',
      os: 'linux',
      arch: 'amd64',
      runtime: 'go1.23.2',
    })
  })

  it('geth with --identity: user data before the version', () => {
    assert.deepEqual(parsed('Geth/MyNode/v1.13.0-stable/linux-amd64/go1.21.1'), {
      name: 'geth',
      userData: 'MyNode',
      version: '1.13.0',
      build: 'stable',
      os: 'linux',
      arch: 'amd64',
      runtime: 'go1.21.1',
    })
    assert.equal(parseClientId('Geth/a/b/v1.13.0-stable/linux-amd64/go1.21.1').userData, 'a/b')
  })

  it('nethermind: +commit build, x64, dotnet', () => {
    assert.deepEqual(parsed('Nethermind/v1.29.1+dfea5240/linux-x64/dotnet8.0.10'), {
      name: 'nethermind',
      version: '1.29.1',
      build: 'dfea5240',
      os: 'linux',
      arch: 'amd64',
      runtime: 'dotnet8.0.10',
    })
  })

  it('erigon and bor', () => {
    assert.deepEqual(parsed('erigon/v2.60.8-5dd9c0c2/linux-amd64/go1.22.7'), {
      name: 'erigon',
      version: '2.60.8',
      build: '5dd9c0c2',
      os: 'linux',
      arch: 'amd64',
      runtime: 'go1.22.7',
    })
    assert.deepEqual(parsed('bor/v1.5.2/linux-amd64/go1.23.2'), { name: 'bor', version: '1.5.2', os: 'linux', arch: 'amd64', runtime: 'go1.23.2' })
  })

  it('reth: Rust target triple, no runtime', () => {
    assert.deepEqual(parsed('reth/v1.1.0-1ba631b/x86_64-unknown-linux-gnu'), { name: 'reth', version: '1.1.0', build: '1ba631b', os: 'linux', arch: 'amd64' })
    assert.deepEqual(parsed('reth/v1.3.12-6f8e725/aarch64-apple-darwin'), { name: 'reth', version: '1.3.12', build: '6f8e725', os: 'darwin', arch: 'arm64' })
  })

  it('besu: JVM runtimes with and without vendor', () => {
    assert.deepEqual(parsed('besu/v24.10.0/linux-x86_64/openjdk-java-21'), { name: 'besu', version: '24.10.0', os: 'linux', arch: 'amd64', runtime: 'openjdk-java-21' })
    assert.deepEqual(parsed('Besu/v23.4.0/linux-x86_64/oracle_openjdk-java-17'), { name: 'besu', version: '23.4.0', os: 'linux', arch: 'amd64', runtime: 'oracle_openjdk-java-17' })
  })

  it('teku-style oddities: empty vendor, doubled name', () => {
    assert.deepEqual(parsed('teku/v23.1.0/linux-x86_64/-eclipseadoptium-openjdk64bit-java-17'), {
      name: 'teku',
      version: '23.1.0',
      os: 'linux',
      arch: 'amd64',
      runtime: 'eclipseadoptium-openjdk64bit-java-17',
    })
    assert.deepEqual(parsed('Teku/teku/v24.1.0/linux-aarch_64'), { name: 'teku', userData: 'teku', version: '24.1.0', os: 'linux', arch: 'arm64' })
  })

  it('ethereumjs', () => {
    assert.deepEqual(parsed('ethereumjs-devp2p/v10.0.0/linux-x64/nodejs'), { name: 'ethereumjs-devp2p', version: '10.0.0', os: 'linux', arch: 'amd64', runtime: 'nodejs' })
  })

  it('a bare name, no version, no platform', () => {
    assert.deepEqual(parsed('Geth'), { name: 'geth' })
    assert.deepEqual(parsed('MyClient/linux-amd64/go1.22'), { name: 'myclient', os: 'linux', arch: 'amd64', runtime: 'go1.22' })
    assert.deepEqual(parsed('foo/bar'), { name: 'foo', userData: 'bar' })
    assert.deepEqual(parsed('Geth/v1.10.0'), { name: 'geth', version: '1.10.0' })
  })

  it('empty and odd separators', () => {
    assert.deepEqual(parseClientId(''), { name: '', raw: '' })
    assert.deepEqual(parseClientId('   '), { name: '', raw: '' })
    assert.deepEqual(parsed('/v1.0.0/'), { name: '', version: '1.0.0' })
    assert.deepEqual(parsed('Geth//v1.14.0//linux-amd64//go1.22'), { name: 'geth', version: '1.14.0', os: 'linux', arch: 'amd64', runtime: 'go1.22' })
  })

  it('non-ASCII names and bytes that are not UTF-8', () => {
    assert.deepEqual(parsed('Ğeth/v1.0.0/linux-amd64/go1.22'), { name: 'ğeth', version: '1.0.0', os: 'linux', arch: 'amd64', runtime: 'go1.22' })
    assert.equal(parseClientId('节点/v1.0.0').name, '节点')
    assert.equal(parseClientId(Uint8Array.of(0x47, 0x65, 0x74, 0x68, 0xff, 0x2f, 0x76, 0x31, 0x2e, 0x30)).name, 'geth\ufffd')
    assert.equal(parseClientId(new TextEncoder().encode('reth/v1.1.0')).version, '1.1.0')
  })

  it('strips control and bidi-override characters', () => {
    const r = parseClientId('Ge\u0000th\u202e/v1.0.0\n/linux-amd64\u0007')
    assert.equal(r.raw, 'Geth/v1.0.0/linux-amd64')
    assert.equal(r.name, 'geth')
  })

  it('bounds very long ids without splitting a character', () => {
    const long = 'Geth/' + 'x'.repeat(10_000) + '/v1.0.0'
    const r = parseClientId(long)
    assert.equal(r.raw.length, MAX_CLIENT_ID_LENGTH)
    assert.equal(r.version, undefined)
    const emoji = parseClientId('🦀'.repeat(1000))
    assert.equal(Array.from(emoji.raw).length, MAX_CLIENT_ID_LENGTH)
    assert.ok(emoji.raw.endsWith('🦀'))
  })

  it('never throws and stays bounded on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 600 }), fc.string({ unit: 'binary', maxLength: 600 }), fc.uint8Array({ maxLength: 600 })), (input) => {
        const r = parseClientId(input)
        assert.ok(Array.from(r.raw).length <= MAX_CLIENT_ID_LENGTH)
        assert.equal(r.name, r.name.toLowerCase())
      }),
      { numRuns: 1000 },
    )
  })
})
