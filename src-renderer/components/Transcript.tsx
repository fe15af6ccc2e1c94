/**
 * A transcript that stays fast and small however long the call: the store keeps a bounded number of
 * lines, and only the newest window of them is in the DOM (older ones on request). Follows new lines
 * while the operator is at the bottom; announces new lines politely to screen readers.
 */
import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import type { TranscriptLine } from '../store/live-reducer';
import { formatTime } from '../lib/format';
import { splitHeard } from '../lib/transcript';
import { LatencyBar } from './LatencyBar';

const WINDOW = 120;
const STEP = 100;

/** A reply the caller spoke over: the heard part as usual, the rest struck through and labelled. */
function InterruptedText({ text, heard }: { text: string; heard: string }) {
  const parts = splitHeard(text, heard);
  return (
    <>
      <div className="line-text">
        {parts.heard ? <span className="line-heard">{parts.heard}</span> : null}
        {parts.heard && parts.unheard ? ' ' : null}
        {parts.unheard ? (
          <del className="line-unheard">
            <span className="sr-only">(not heard: </span>
            {parts.unheard}
            <span className="sr-only">)</span>
          </del>
        ) : null}
      </div>
      <p className="line-interrupted">{parts.heard ? 'Interrupted — the caller heard only this' : 'Interrupted — the caller heard none of this'}</p>
    </>
  );
}

function LineView({ line }: { line: TranscriptLine }) {
  const interrupted = line.heard !== undefined;
  return (
    <li className={`line line-${line.kind}${line.pending ? ' line-pending' : ''}${interrupted ? ' line-cut' : ''}`} data-kind={line.kind} data-seq={line.seq}>
      <div className="line-meta">
        <span className="line-who">{line.label}</span>
        <time className="line-time">{formatTime(line.at)}</time>
      </div>
      {interrupted ? <InterruptedText text={line.text} heard={line.heard!} /> : <div className="line-text">{line.text}</div>}
      {line.metrics && (line.metrics.total_ms ?? 0) > 0 ? <LatencyBar m={line.metrics} /> : null}
    </li>
  );
}

export function Transcript({ lines, dropped = 0, footer, label = 'Transcript' }: { lines: TranscriptLine[]; dropped?: number; footer?: ReactNode; label?: string }) {
  const [windowSize, setWindowSize] = useState(WINDOW);
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const start = Math.max(0, lines.length - windowSize);
  const visible = start ? lines.slice(start) : lines;
  const hidden = start + dropped;

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [lines, footer]);

  useEffect(() => {
    // a new call or a shorter list: back to the default window
    if (lines.length < windowSize - STEP) setWindowSize(WINDOW);
  }, [lines.length, windowSize]);

  return (
    <div
      className="transcript"
      ref={scroller}
      tabIndex={0}
      role="region"
      aria-label={label}
      onScroll={(e) => {
        const el = e.currentTarget;
        atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
      }}
    >
      {hidden > 0 ? (
        <div className="transcript-more">
          {start > 0 ? (
            <button type="button" className="btn btn-ghost" onClick={() => setWindowSize((w) => w + STEP)}>
              Show {Math.min(STEP, start)} earlier lines
            </button>
          ) : (
            <span className="muted">{dropped} earlier lines are in History.</span>
          )}
        </div>
      ) : null}
      {lines.length === 0 && !footer ? <p className="muted transcript-empty">Nothing said yet.</p> : null}
      <ol className="lines" aria-live="polite" aria-relevant="additions">
        {visible.map((l) => (
          <LineView key={l.id} line={l} />
        ))}
      </ol>
      {footer}
    </div>
  );
}
