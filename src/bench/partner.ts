/** @ethereumjs/devp2p is a devDependency: benchmarks compare against it when it is installed. */
export type EthereumJs = typeof import('@ethereumjs/devp2p')

/** @ethereumjs/devp2p when it is installed (a devDependency), else null. */
export async function ethereumjs(): Promise<EthereumJs | null> {
  try {
    return await import('@ethereumjs/devp2p')
  } catch {
    return null
  }
}
