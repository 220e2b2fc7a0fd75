"use client";

import { useCallback, useEffect, useRef } from "react";

/**
 * Keeps the conversation scrolled to its newest line as it grows (new events, a block rendered late), unless the
 * operator scrolled up to read: it then stays where they are until they come back to the bottom.
 */
export function useStickToBottom() {
  const ref = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const onScroll = useCallback(() => {
    const node = ref.current;
    if (node) atBottom.current = node.scrollHeight - node.scrollTop - node.clientHeight < 48;
  }, []);
  useEffect(() => {
    const node = ref.current;
    const content = node?.firstElementChild;
    if (!node || !content) return;
    const follow = () => {
      if (atBottom.current) node.scrollTop = node.scrollHeight;
    };
    follow();
    const observer = new ResizeObserver(follow);
    observer.observe(content);
    return () => observer.disconnect();
  }, []);
  return { ref, onScroll };
}
