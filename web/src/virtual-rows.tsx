import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

/** Rows drawn beyond each edge of the view, so a quick scroll shows no blank band. */
const OVERSCAN = 6;

/**
 * A scrolling list of fixed-height rows of which only those in view (and a few beyond) are in the
 * DOM: 20,000 rows cost as much as 30. `onNearEnd` is called when the view comes within a screen of
 * the last row, to load the next page.
 */
export function VirtualRows<T>(props: {
  readonly rows: readonly T[];
  readonly rowHeight: number;
  readonly height: string;
  readonly render: (row: T, index: number) => ComponentChildren;
  readonly onNearEnd?: () => void;
  /** Shown after the rows (a loading line), one row high. */
  readonly footer?: ComponentChildren;
  readonly testId?: string;
}) {
  const { rows, rowHeight, render, onNearEnd, footer } = props;
  const box = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 600 });
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    let frame = 0;
    const measure = () => {
      frame = 0;
      setView((v) =>
        v.top === el.scrollTop && v.height === el.clientHeight
          ? v
          : { top: el.scrollTop, height: el.clientHeight },
      );
    };
    // At most one state change per frame, however many scroll events arrive.
    const onScroll = () => {
      frame ||= requestAnimationFrame(measure);
    };
    measure();
    el.addEventListener('scroll', onScroll, { passive: true });
    const resize = new ResizeObserver(onScroll);
    resize.observe(el);
    return () => {
      el.removeEventListener('scroll', onScroll);
      resize.disconnect();
      cancelAnimationFrame(frame);
    };
  }, []);
  const first = Math.max(0, Math.floor(view.top / rowHeight) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((view.top + view.height) / rowHeight) + OVERSCAN);
  const nearEnd = last + Math.ceil(view.height / rowHeight) >= rows.length;
  useEffect(() => {
    if (nearEnd) onNearEnd?.();
  }, [nearEnd, rows.length]);
  const shown = [];
  for (let i = first; i < last; i++) {
    shown.push(
      <div class="vrow" key={i} style={{ top: `${i * rowHeight}px`, height: `${rowHeight}px` }}>
        {render(rows[i]!, i)}
      </div>,
    );
  }
  const extra = footer === undefined ? 0 : 1;
  return (
    <div
      class="vrows"
      ref={box}
      style={{ height: props.height }}
      data-testid={props.testId}
      data-rows={rows.length}
      data-drawn={last - first}
    >
      <div class="vrows-space" style={{ height: `${(rows.length + extra) * rowHeight}px` }}>
        {shown}
        {footer !== undefined && (
          <div class="vrow" style={{ top: `${rows.length * rowHeight}px`, height: `${rowHeight}px` }}>
            {footer}
          </div>
        )}
      </div>
    </div>
  );
}
