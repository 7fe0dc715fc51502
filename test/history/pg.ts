/**
 * A real PostgreSQL for the tests: the server named by ETHP2P_TEST_PG (a postgres:// URL with the
 * right to create databases; `.ci/run` starts one for the whole run), or else a cluster of our own
 * started by scripts/pg-cluster.sh and stopped when the test file ends. Each caller gets a fresh
 * database of its own, dropped at the end. Without a server and without the server binaries, this
 * throws an error that says what is needed: the Postgres tests fail, they are never skipped.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'

const SCRIPT = join(import.meta.dirname, '../../scripts/pg-cluster.sh')

let server: { url: string; dir?: string } | undefined
const created: { admin: string; name: string }[] = []

function startServer(): { url: string; dir?: string } {
  const env = process.env['ETHP2P_TEST_PG']
  if (env) return { url: env }
  const dir = mkdtempSync(join(tmpdir(), 'ethp2p-pg-'))
  try {
    const url = execFileSync('bash', [SCRIPT, 'start', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
    return { url, dir }
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '').trim()
    throw new Error(
      `these tests need a PostgreSQL server: set ETHP2P_TEST_PG=postgres://user@host:port/db (a role that may CREATE DATABASE), ` +
        `or install the server binaries (apt-get install -y postgresql) so scripts/pg-cluster.sh can start one: ${stderr || (err as Error).message}`,
    )
  }
}

/** A new, empty database on the test server; its postgres:// URL. */
export async function testDatabase(): Promise<string> {
  server ??= startServer()
  const name = `ethp2p_test_${process.pid}_${created.length}_${Math.floor(Math.random() * 1e9)}`
  const client = new pg.Client({ connectionString: server.url })
  try {
    await client.connect()
  } catch (err) {
    throw new Error(`the PostgreSQL server at ${server.url} (${process.env['ETHP2P_TEST_PG'] ? 'ETHP2P_TEST_PG' : 'started here'}) does not answer: ${(err as Error).message}`)
  }
  try {
    await client.query(`CREATE DATABASE ${name}`)
  } finally {
    await client.end()
  }
  created.push({ admin: server.url, name })
  const u = new URL(server.url)
  u.pathname = `/${name}`
  return u.toString()
}

/** Drop the databases made here and stop our own server (one given by ETHP2P_TEST_PG is left running). */
export async function stopTestDatabases(): Promise<void> {
  for (const { admin, name } of created.splice(0)) {
    const client = new pg.Client({ connectionString: admin })
    await client.connect()
    try {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    } finally {
      await client.end()
    }
  }
  if (server?.dir) execFileSync('bash', [SCRIPT, 'stop', server.dir], { stdio: 'ignore' })
  server = undefined
}
