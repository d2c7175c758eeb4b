import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** Components showing the path, told when `navigate` changes it (the History API fires no event for that). */
const listeners = new Set<() => void>();

/** Goes to `path` without reloading the page. */
export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  for (const listener of listeners) listener();
}

/** The current path, kept up to date through `navigate` and the back and forward buttons. */
export function usePathname(): string {
  const [path, setPath] = useState(() => location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return path;
}

/** An in-app link: a plain click navigates in place; a modified click (new tab, say) is left to the browser. */
export function Link(props: {
  href: string;
  class?: string;
  current?: boolean;
  children: ComponentChildren;
}) {
  const { href, current = false } = props;
  const onClick = (event: MouseEvent) => {
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    ) {
      return;
    }
    event.preventDefault();
    if (location.pathname !== href) navigate(href);
  };
  return (
    <a href={href} class={props.class} aria-current={current ? 'page' : undefined} onClick={onClick}>
      {props.children}
    </a>
  );
}
