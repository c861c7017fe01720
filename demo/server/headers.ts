/**
 * The cross-origin isolation headers of the demo servers. Every response gets
 * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`
 * (so `crossOriginIsolated` is true and wasm threads can run), plus CORP so the files can also be
 * embedded by isolated pages on other origins. A request whose URL has `coi=0` gets none of them:
 * that document is not isolated (threads off), for testing the single-threaded path.
 */
export function wantsIsolation(url: string): boolean {
  const q = url.indexOf('?');
  if (q < 0) return true;
  return new URLSearchParams(url.slice(q + 1)).get('coi') !== '0';
}

export function isolationHeaders(url: string, enabled = true): Record<string, string> {
  if (!enabled || !wantsIsolation(url)) return {};
  return {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}
