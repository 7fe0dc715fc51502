/**
 * Debian's chromium driven by playwright-core (which never downloads a browser here): headless, no
 * sandbox (CI runs as root), nothing reaching out on its own (no QUIC, sync, component updates or
 * background networking), a fresh profile per launch. Missing chromium is an error saying how to get it.
 * Used by the dashboard's browser test and its first-paint benchmark.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext } from 'playwright-core'

/** the headless browser the dashboard bench drives (Debian's chromium unless ETHP2P_CHROMIUM names another) */
export const CHROMIUM = process.env['ETHP2P_CHROMIUM'] ?? '/usr/bin/chromium'

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** A browser with a profile of its own; close() removes the profile too. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`the dashboard tests need chromium at ${CHROMIUM}: apt-get install -y chromium (or set ETHP2P_CHROMIUM)`)
  // a devDependency: loaded only when a browser is wanted
  const { chromium } = await import('playwright-core')
  const profile = mkdtempSync(join(tmpdir(), 'ethp2p-chromium-'))
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 })
  return {
    context,
    close: async () => {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}
