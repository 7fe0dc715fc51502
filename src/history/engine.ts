/** The SQL engines a history can live in: a module of its own so db.ts and migrations.ts both import it and not each other. */

/** Which SQL engine a history lives in. */
export type Engine = 'sqlite' | 'postgres'
