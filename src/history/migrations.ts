/**
 * Versioned schema migrations, applied at start by Kysely's Migrator (which records them in
 * `kysely_migration` and, on PostgreSQL, holds an advisory lock so two monitors starting at once
 * migrate once). A migration, once released, never changes: new columns come as a new entry.
 */
import { sql, type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely'
import type { Engine } from './engine.js'

/** an auto-incremented integer key in each engine's own spelling */
function idColumn(engine: Engine): 'integer' | 'serial' {
  return engine === 'postgres' ? 'serial' : 'integer'
}

function initial(engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const id = idColumn(engine)
      // ms timestamps need 64 bits; PostgreSQL's integer is 32
      await db.schema
        .createTable('crawls')
        .addColumn('id', id, (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('vantage', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('ended_at', 'bigint', (c) => c.notNull())
        .addColumn('options', 'text', (c) => c.notNull())
        .addColumn('interrupted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('found', 'integer', (c) => c.notNull())
        .addColumn('answered', 'integer', (c) => c.notNull())
        .addColumn('dialled', 'integer', (c) => c.notNull())
        .addColumn('hello', 'integer', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('new_nodes', 'integer', (c) => c.notNull())
        .addColumn('returning_nodes', 'integer', (c) => c.notNull())
        .addColumn('gone_nodes', 'integer', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('crawls_vantage_started').on('crawls').columns(['vantage', 'started_at']).execute()
      await db.schema.createIndex('crawls_started').on('crawls').column('started_at').execute()

      await db.schema
        .createTable('nodes')
        .addColumn('id', id, (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('pubkey', 'text', (c) => c.notNull().unique())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('first_seen', 'bigint', (c) => c.notNull())
        .addColumn('last_seen', 'bigint')
        .addColumn('last_crawl', 'integer', (c) => c.notNull())
        .addColumn('last_visit', 'bigint', (c) => c.notNull())
        .addColumn('ip', 'text', (c) => c.notNull())
        .addColumn('udp', 'integer', (c) => c.notNull())
        .addColumn('tcp', 'integer', (c) => c.notNull())
        .addColumn('client_id', 'text')
        .addColumn('client_name', 'text')
        .execute()
      await db.schema.createIndex('nodes_node_id').on('nodes').column('node_id').execute()
      await db.schema.createIndex('nodes_ip').on('nodes').column('ip').execute()
      await db.schema.createIndex('nodes_last_seen').on('nodes').column('last_seen').execute()

      await db.schema
        .createTable('visits')
        .addColumn('crawl_id', 'integer', (c) => c.notNull().references('crawls.id').onDelete('cascade'))
        .addColumn('node', 'integer', (c) => c.notNull().references('nodes.id'))
        .addColumn('ip', 'text', (c) => c.notNull())
        .addColumn('udp', 'integer', (c) => c.notNull())
        .addColumn('tcp', 'integer', (c) => c.notNull())
        .addColumn('answered', 'integer', (c) => c.notNull())
        .addColumn('attempts', 'integer')
        .addColumn('rtt_ms', 'double precision')
        .addColumn('enr_seq', 'bigint')
        .addColumn('enr', 'text')
        .addColumn('network', 'text')
        .addColumn('fork', 'text')
        .addColumn('eth2', 'integer', (c) => c.notNull())
        .addColumn('neighbors', 'integer')
        .addColumn('client_id', 'text')
        .addColumn('client_name', 'text')
        .addColumn('client_version', 'text')
        .addColumn('client_os', 'text')
        .addColumn('client_arch', 'text')
        .addColumn('client_runtime', 'text')
        .addColumn('client_language', 'text')
        .addColumn('caps', 'text')
        .addColumn('network_id', 'bigint')
        .addColumn('fork_hash', 'text')
        .addColumn('fork_next', 'bigint')
        .addColumn('chain', 'text')
        .addColumn('disconnect', 'text')
        .addColumn('disconnect_by', 'text')
        .addColumn('inbound', 'integer', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('dial_error', 'text')
        .addPrimaryKeyConstraint('visits_pk', ['crawl_id', 'node'])
        .execute()
      // a node's history, and the uptime question (visits per node)
      await db.schema.createIndex('visits_node').on('visits').columns(['node', 'crawl_id']).execute()

      await db.schema
        .createTable('sessions')
        .addColumn('id', id, (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('node', 'integer', (c) => c.notNull().references('nodes.id'))
        .addColumn('vantage', 'text', (c) => c.notNull())
        .addColumn('first_crawl', 'integer', (c) => c.notNull())
        .addColumn('last_crawl', 'integer', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen', 'bigint', (c) => c.notNull())
        .addColumn('ended_at', 'bigint')
        .addColumn('crawls', 'integer', (c) => c.notNull())
        .execute()
      // the open sessions of a vantage point are what each new crawl extends or closes
      await db.schema.createIndex('sessions_open').on('sessions').columns(['vantage', 'ended_at', 'last_crawl']).execute()
      await db.schema.createIndex('sessions_node').on('sessions').columns(['node', 'vantage']).execute()

      await db.schema
        .createTable('crawl_counts')
        .addColumn('crawl_id', 'integer', (c) => c.notNull().references('crawls.id').onDelete('cascade'))
        .addColumn('dim', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('n', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('crawl_counts_pk', ['crawl_id', 'dim', 'key'])
        .execute()
      // one key across crawls: the adoption curve of a version
      await db.schema.createIndex('crawl_counts_key').on('crawl_counts').columns(['dim', 'key', 'crawl_id']).execute()
    },
  }
}

/**
 * Issue 20: per visit, the discovery protocols the node answered on ('v4', 'v5', 'v4+v5'; those tried
 * when it answered none) and its layer ('execution' | 'consensus'). Null in visits written before, and
 * in crawls that walked discv4 alone (their records name no protocols).
 */
const visitProtocols: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    // one column per statement: SQLite's ALTER TABLE adds one at a time
    await db.schema.alterTable('visits').addColumn('protocols', 'text').execute()
    await db.schema.alterTable('visits').addColumn('layer', 'text').execute()
  },
}

/**
 * Issue 22: per visit, the country (ISO 3166 alpha-2), AS number and AS organisation of its IP, from
 * the offline databases. Null in visits written before, and for private and loopback addresses. AS
 * numbers take 32 bits unsigned, past PostgreSQL's integer: bigint.
 */
const visitGeo: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('visits').addColumn('country', 'text').execute()
    await db.schema.alterTable('visits').addColumn('asn', 'bigint').execute()
    await db.schema.alterTable('visits').addColumn('as_org', 'text').execute()
  },
}

/**
 * Issue 22: the crawl's topology (`monitor --neighbors`): one row per table entry, node `from_node`
 * (answering FINDNODE) lists node `to_node` at log distance `distance`. Keyed by crawl, then lister;
 * the second index serves "who lists this node" and in-degree by crawl.
 */
const edges: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('edges')
      .addColumn('crawl_id', 'integer', (c) => c.notNull().references('crawls.id').onDelete('cascade'))
      .addColumn('from_node', 'integer', (c) => c.notNull().references('nodes.id'))
      .addColumn('to_node', 'integer', (c) => c.notNull().references('nodes.id'))
      .addColumn('distance', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('edges_pk', ['crawl_id', 'from_node', 'to_node'])
      .execute()
    await db.schema.createIndex('edges_to').on('edges').columns(['crawl_id', 'to_node']).execute()
  },
}

/**
 * Issue 22: per visit, the head the node announced (number, hash, block time in ms since the epoch)
 * and whether it was synced (1/0). Null in visits written before, without --dial, and where the dial
 * read no head (synced: also where its chain had no reference head).
 */
const visitHead: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('visits').addColumn('head_number', 'bigint').execute()
    await db.schema.alterTable('visits').addColumn('head_hash', 'text').execute()
    await db.schema.alterTable('visits').addColumn('head_time', 'bigint').execute()
    await db.schema.alterTable('visits').addColumn('synced', 'integer').execute()
  },
}

/**
 * Issue 23, retention: `history prune` deletes the visits and edges of old crawls and marks them
 * (`crawls.pruned` 1); the per-crawl counts stay, and `daily_counts` sums them per vantage point, UTC
 * day (epoch ms of its midnight), dimension and key over the day's crawls (not interrupted; `crawls`
 * says how many), so a year of series is 365 rows a key. Uptime is answered from the sessions, which
 * prune keeps: `sessions_last_seen` finds those that reach into a window; `sessions_open` gives way to
 * a partial index of the open sessions only.
 */
const rollups: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('crawls').addColumn('pruned', 'integer', (c) => c.notNull().defaultTo(0)).execute()
    await db.schema
      .createTable('daily_counts')
      .addColumn('vantage', 'text', (c) => c.notNull())
      .addColumn('day', 'bigint', (c) => c.notNull())
      .addColumn('dim', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('crawls', 'integer', (c) => c.notNull())
      .addColumn('n', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('daily_counts_pk', ['vantage', 'day', 'dim', 'key'])
      .execute()
    // a dimension across days, whichever vantage point
    await db.schema.createIndex('daily_counts_dim').on('daily_counts').columns(['dim', 'day']).execute()
    await db.schema.createIndex('sessions_last_seen').on('sessions').columns(['last_seen', 'started_at']).execute()
    // sessions stay for good while visits go: the index of open sessions (all a new crawl touches) need
    // not hold the closed ones, ~30 B a row of a table that grows by a row per node every few crawls
    await db.schema.dropIndex('sessions_open').execute()
    await db.schema.createIndex('sessions_open_only').on('sessions').columns(['vantage', 'node']).where(sql.ref('ended_at'), 'is', null).execute()
  },
}

/**
 * Issue 23: the crawl's key (the monitor's UUID for it), unique, so a crawl written again from the
 * spool after a commit whose acknowledgement was lost is recognised and skipped. Null in crawls
 * written before and by callers that give none; both engines let a unique index hold many nulls.
 */
const crawlKey: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('crawls').addColumn('crawl_key', 'text').execute()
    await db.schema.createIndex('crawls_key').unique().on('crawls').column('crawl_key').execute()
  },
}

/**
 * Issue 23, retention past 10×: `history prune` folds the closed uptime sessions that ended before its
 * cut into one row per node and vantage point (the sessions folded, the crawls answered in them, the
 * vantage point's crawls from the first answered through the last, the first and last answered, when
 * the last folded session ended) and deletes them, so the sessions stop growing with the years.
 * `uptime_totals_last_seen` finds the totals that reach into an uptime window.
 */
const uptimeTotals: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('uptime_totals')
      .addColumn('node', 'integer', (c) => c.notNull().references('nodes.id'))
      .addColumn('vantage', 'text', (c) => c.notNull())
      .addColumn('sessions', 'integer', (c) => c.notNull())
      .addColumn('answered', 'integer', (c) => c.notNull())
      .addColumn('crawls', 'integer', (c) => c.notNull())
      .addColumn('first_seen', 'bigint', (c) => c.notNull())
      .addColumn('last_seen', 'bigint', (c) => c.notNull())
      .addColumn('ended_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('uptime_totals_pk', ['node', 'vantage'])
      .execute()
    await db.schema.createIndex('uptime_totals_last_seen').on('uptime_totals').column('last_seen').execute()
  },
}

/** Every migration by name; names sort in the order they apply. */
export function migrations(engine: Engine): Record<string, Migration> {
  return { '0001_initial': initial(engine), '0002_visit_protocols_layer': visitProtocols, '0003_visit_geo': visitGeo, '0004_edges': edges, '0005_visit_head': visitHead, '0006_rollups': rollups, '0007_crawl_key': crawlKey, '0008_uptime_totals': uptimeTotals }
}

/** A schema migration failed; the cause says which and why. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError'
  readonly code = 'MIGRATION_FAILED'
}

/** Bring the schema up to date; throws MigrationError naming the migration that failed. */
export async function migrate(db: Kysely<unknown>, engine: Engine): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(engine) }
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest()
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName
    throw new MigrationError(`schema migration ${failed ?? ''} failed: ${(error as Error).message ?? String(error)}`, { cause: error })
  }
}
