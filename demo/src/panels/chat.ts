/**
 * The chat view: a prompt box, the conversation, streaming answers. Plain (base) models such as the
 * embedded KJV model are used as text completion; models with a chat format through
 * `chat.completions`. Answers are written with `textContent` only, so model output that looks like
 * HTML stays text. Each answer shows its statistics and, when it came from the result cache, a marker.
 */
import type { ChatCompletionMessageParam } from 'bitnet-web';
import { describeHit } from '../cache-hit.js';
import { $, formatMs, h, setText } from '../dom.js';
import type { EngineHost } from '../engine-host.js';
import type { MetricsTracker } from '../metrics-tracker.js';
import { chatStream, completionStream, type DemoStream, type SamplingSettings } from '../streams.js';

export type AnswerState = 'streaming' | 'done' | 'aborted' | 'error';

export class ChatPanel {
  private readonly list = $('#conversation');
  private readonly form = $('#prompt-form') as HTMLFormElement;
  private readonly input = $('#prompt') as HTMLTextAreaElement;
  private readonly send = $('#send') as HTMLButtonElement;
  private readonly stop = $('#stop') as HTMLButtonElement;
  private readonly maxTokens = $('#max-tokens') as HTMLInputElement;
  private readonly temperature = $('#temperature') as HTMLInputElement;
  private readonly mode = $('#chat-mode') as HTMLSelectElement;
  private readonly history: ChatCompletionMessageParam[] = [];
  private current: DemoStream | null = null;

  constructor(private readonly host: EngineHost, private readonly tracker: MetricsTracker, defaults: SamplingSettings) {
    this.maxTokens.value = String(defaults.maxTokens);
    this.temperature.value = String(defaults.temperature);
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.submit();
    });
    this.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        void this.submit();
      }
    });
    this.stop.addEventListener('click', () => this.current?.abort());
    $('#clear-chat').addEventListener('click', () => {
      this.history.length = 0;
      this.list.replaceChildren();
    });
    host.subscribe((s) => {
      const ready = s.status === 'ready';
      this.send.disabled = !ready || this.current !== null;
      if (ready && s.engine) {
        // The embedded default model is a base model (continues Bible text): completion suits it.
        // Other models with a chat template start in chat mode.
        const chatCapable = s.engine.model.chatFormat !== 'plain' && s.request?.model != null;
        if (this.mode.dataset.model !== s.engine.model.location) {
          this.mode.dataset.model = s.engine.model.location;
          this.mode.value = chatCapable ? 'chat' : 'completion';
        }
      }
    });
  }

  /** Keeps the conversation scrolled to its end (inside the list; the page does not jump). */
  private follow(): void {
    this.list.scrollTop = this.list.scrollHeight;
  }

  settings(): SamplingSettings {
    const max = Math.max(1, Math.min(4096, Math.floor(Number(this.maxTokens.value) || 32)));
    const t = Math.max(0, Number(this.temperature.value) || 0);
    return { maxTokens: max, temperature: t };
  }

  /** Sends the prompt box's text (or `text`) and streams the answer. Resolves when the answer ended. */
  async submit(text?: string): Promise<void> {
    const engine = this.host.state.engine;
    const prompt = text ?? this.input.value;
    if (!engine || this.current || prompt.trim() === '') return;
    const s = this.settings();
    this.addMessage('user', prompt);
    let stream: DemoStream;
    if (this.mode.value === 'chat') {
      this.history.push({ role: 'user', content: prompt });
      stream = chatStream(engine, this.history, s);
    } else stream = completionStream(engine, prompt, s);
    const reply = await this.render(stream, prompt);
    if (this.mode.value === 'chat') this.history.push({ role: 'assistant', content: reply });
  }

  /** Adds a message bubble; its text is set with textContent. */
  addMessage(role: 'user' | 'assistant', text: string): HTMLElement {
    const body = h('div', { class: 'text' });
    setText(body, text);
    const li = h('li', { class: `msg ${role}`, 'data-role': role }, h('div', { class: 'who' }, role === 'user' ? 'You' : 'Model'), body);
    this.list.appendChild(li);
    this.follow();
    return li;
  }

  /** Streams a DemoStream into a new answer bubble. Used for model output and by the test hook. */
  async render(stream: DemoStream, prompt: string): Promise<string> {
    const li = this.addMessage('assistant', '');
    const body = li.querySelector('.text') as HTMLElement;
    const meta = h('div', { class: 'meta' }, 'generating…');
    li.appendChild(meta);
    li.dataset.state = 'streaming' satisfies AnswerState;
    li.dataset.prompt = prompt.slice(0, 200);
    this.current = stream;
    this.send.disabled = true;
    this.stop.disabled = false;
    this.tracker.requestStarted();
    let out = '';
    try {
      for await (const c of stream.chunks) {
        out += c.text;
        // textContent: whatever the model writes (tags included) is shown as characters.
        body.textContent = out;
        this.follow();
        this.tracker.addTokens(c.tokens);
        li.dataset.tokens = String(Number(li.dataset.tokens ?? 0) + c.tokens);
      }
      const end = await stream.end;
      this.tracker.requestEnded(end.stats, end.hit?.kind ?? null);
      li.dataset.state = 'done' satisfies AnswerState;
      // The cache manager lists result-cache entries: a finished answer may have added one.
      document.dispatchEvent(new CustomEvent('bitnet:answer-done'));
      const st = end.stats;
      const parts = [
        `${end.completionTokens ?? '?'} tokens`,
        `TTFT ${formatMs(end.ttftMs)}`,
        st ? `${st.decodeTokensPerS.toFixed(1)} tok/s` : null,
        st ? `prefill ${st.prefillTokensPerS.toFixed(0)} tok/s` : null,
        st ? st.backend : null,
        end.finishReason ? `finish: ${end.finishReason}` : null,
      ].filter((x): x is string => x !== null);
      setText(meta, parts.join(' · '));
      if (end.hit) {
        li.dataset.cached = end.hit.kind;
        const marker = h('span', { class: 'cached-marker', 'data-kind': end.hit.kind, title: describeHit(end.hit) }, `⚡ cached (${end.hit.kind})`);
        li.insertBefore(marker, meta);
      }
    } catch (e) {
      const aborted = e instanceof Error && e.name === 'AbortError';
      li.dataset.state = (aborted ? 'aborted' : 'error') satisfies AnswerState;
      this.tracker.requestEnded(null);
      setText(meta, aborted ? `stopped after ${li.dataset.tokens ?? 0} tokens` : `error: ${errorText(e)}`);
      if (!aborted) li.classList.add('error');
    } finally {
      this.current = null;
      this.stop.disabled = true;
      this.send.disabled = this.host.state.status !== 'ready';
    }
    return out;
  }
}

export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${e.message}` : `${e.name}: ${e.message}`;
  }
  return String(e);
}
