/**
 * The smallest useful React app on bitnet-web: one hook call loads the embedded default model
 * in a worker; a form streams a greedy continuation of the prompt. Output is rendered by React as
 * text (never as HTML).
 */
import { useState, type FormEvent } from 'react';
import { useBitNet } from 'bitnet-web/react';

export function App() {
  const { status, progress, backend, selection, error, generate, abort } = useBitNet();
  const [prompt, setPrompt] = useState('In the beginning God created');
  const [output, setOutput] = useState('');
  const [busy, setBusy] = useState(false);

  async function onSubmit(ev: FormEvent) {
    ev.preventDefault();
    setOutput('');
    setBusy(true);
    try {
      for await (const chunk of generate(prompt, { maxTokens: 24, temperature: 0 })) {
        if (!chunk.done) setOutput((o) => o + chunk.text);
      }
    } catch (e) {
      if ((e as Error).name !== 'AbortError') setOutput((o) => `${o}\n[error: ${(e as Error).message}]`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main style={{ font: '15px/1.5 system-ui, sans-serif', maxWidth: 640, margin: '2rem auto', padding: '0 1rem' }}>
      <h1>bitnet-web + React</h1>
      <p data-testid="status" data-status={status}>
        {status}
        {status === 'loading' && progress ? ` — ${progress.phase} ${Math.round(progress.fraction * 100)}%` : ''}
        {backend ? ` — backend: ${backend}` : ''}
      </p>
      {selection && <p style={{ color: '#667' }}>{selection.description}</p>}
      {error && <p style={{ color: '#c33' }}>{error.message}</p>}
      <form onSubmit={onSubmit}>
        <textarea value={prompt} onChange={(e) => setPrompt(e.target.value)} rows={3} style={{ width: '100%' }} />
        <button type="submit" disabled={status !== 'ready' || busy}>Generate</button>{' '}
        <button type="button" onClick={abort} disabled={!busy}>Stop</button>
      </form>
      <pre data-testid="output" style={{ whiteSpace: 'pre-wrap' }}>{output}</pre>
    </main>
  );
}
