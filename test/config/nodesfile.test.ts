import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MAX_NODES_FILE_SIZE, NodesFileError, type NodesFileWarning, parseNodesList, readNodesFile } from '../../src/config/nodesfile.js'
import { formatEnode } from '../../src/enode/url.js'

const PUB = 'd860a01f9722d78051619d1e2351aba3f43f943f6f00718d1b9baa4101932a1f5011f16bb2b1bb35db20d6fe28fa0bf09636d26a87d31de9ec6203eeedb1f666'
const A = `enode://${PUB}@18.138.108.67:30303`
const B = `enode://${PUB}@[2001:db8::7]:30304?discport=30305`

describe('nodes files (static-nodes.json, trusted-nodes.json)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ethp2p-nodesfile-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  const write = (name: string, text: string) => {
    const f = join(dir, name)
    writeFileSync(f, text)
    return f
  }

  it('reads a JSON array of enode URLs', () => {
    const f = write('static-nodes.json', JSON.stringify([A, B], null, 2))
    const nodes = readNodesFile(f)
    assert.deepEqual(nodes.map(formatEnode), [A, B])
    assert.equal(nodes[1]!.udp, 30305)
  })

  it('gives no nodes for a missing file and for an empty array', () => {
    assert.deepEqual(readNodesFile(join(dir, 'absent.json')), [])
    assert.deepEqual(readNodesFile(write('empty.json', '[]')), [])
  })

  it('skips empty strings silently and bad URLs with a warning naming the file and entry, as geth does', () => {
    const warnings: NodesFileWarning[] = []
    const f = write('mixed.json', JSON.stringify([A, '', 'enode://abcd@1.2.3.4:1', B, '']))
    const nodes = readNodesFile(f, { onWarning: (w) => warnings.push(w) })
    assert.deepEqual(nodes.map(formatEnode), [A, B])
    assert.equal(warnings.length, 1)
    assert.equal(warnings[0]!.file, f)
    assert.equal(warnings[0]!.index, 2)
    assert.equal(warnings[0]!.entry, 'enode://abcd@1.2.3.4:1')
    assert.match(warnings[0]!.error.message, /128 hex/)
    // without a callback the bad entry is still skipped
    assert.equal(readNodesFile(f).length, 2)
  })

  it('accepts a leading byte-order mark', () => {
    assert.equal(readNodesFile(write('bom.json', `\ufeff${JSON.stringify([A])}`)).length, 1)
  })

  it('throws a typed error naming the file for invalid JSON, with the position', () => {
    const f = write('broken.json', `[\n  "${A}",\n  oops\n]`)
    assert.throws(
      () => readNodesFile(f),
      (e: unknown) => e instanceof NodesFileError && e.file === f && /invalid JSON/.test(e.message) && e.message.startsWith(f),
    )
    // comments are not JSON: geth rejects them too
    assert.throws(() => parseNodesList(`// peers\n["${A}"]`, 'x.json'), NodesFileError)
  })

  it('throws for a non-array document and for non-string entries', () => {
    assert.throws(() => parseNodesList(JSON.stringify({ nodes: [A] }), 'obj.json'), /obj\.json: expected a JSON array/)
    assert.throws(() => parseNodesList(JSON.stringify([A, 42]), 'num.json'), /num\.json: entry 1 is number/)
    assert.throws(() => parseNodesList(JSON.stringify([null]), 'null.json'), /entry 0 is null/)
  })

  it('refuses files over 1 MiB and things that are not files', () => {
    const f = write('huge.json', `[${' '.repeat(MAX_NODES_FILE_SIZE)}]`)
    assert.throws(() => readNodesFile(f), (e: unknown) => e instanceof NodesFileError && e.file === f && /limit/.test(e.message))
    const sub = join(dir, 'adir')
    mkdirSync(sub)
    assert.throws(() => readNodesFile(sub), (e: unknown) => e instanceof NodesFileError && /not a regular file/.test(e.message))
  })
})
