// Chat: POST /chat, the answer with its citations linked to the payments.
import { api } from '../api.js';
import { html, PageTitle, Problem, useState } from '../ui.js';

export function ChatPage() {
  const [question, setQuestion] = useState('');
  const [turns, setTurns] = useState([]);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState();
  const ask = async (e) => {
    e.preventDefault();
    if (!question.trim()) return;
    setBusy(true);
    setProblem(undefined);
    try {
      const answer = await api('POST', '/chat', { question });
      setTurns([{ question, answer }, ...turns]);
      setQuestion('');
    } catch (error) {
      setProblem(error);
    } finally {
      setBusy(false);
    }
  };
  return html`<section aria-labelledby="chat-title">
    <${PageTitle}><span id="chat-title">Chat</span><//>
    <p>Ask about your own payments: "total volume last 7 days", "decline rate this week compared with last week", "why was pay_… declined?"</p>
    <form class="ask" onSubmit=${ask}>
      <label for="question">Question</label>
      <input id="question" name="question" value=${question} onInput=${(e) => setQuestion(e.currentTarget.value)} maxlength="1000" required />
      <button type="submit" disabled=${busy}>${busy ? 'Asking…' : 'Ask'}</button>
    </form>
    <${Problem} error=${problem} />
    <ol class="turns" aria-live="polite">
      ${turns.map(
        (t) => html`<li class="turn"><p class="question"><strong>You:</strong> ${t.question}</p>
          <p class="answer">${t.answer.answer}</p>
          ${t.answer.citations?.length ? html`<p class="citations">Payments: ${t.answer.citations.map((id, i) => html`${i ? ', ' : ''}<a href=${`#/payments/${id}`}>${id}</a>`)}</p>` : null}
        </li>`,
      )}
    </ol>
  </section>`;
}
