/** @ethereumjs/devp2p is a devDependency: benchmarks compare against it when it is installed. */
export type EthereumJs = typeof import('@ethereumjs/devp2p')

export async function ethereumjs(): Promise<EthereumJs | null> {
  try {
    return await import('@ethereumjs/devp2p')
  } catch {
    return null
  }
}
