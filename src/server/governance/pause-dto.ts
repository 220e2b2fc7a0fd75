// Pure (components read its types): the kill switch as the API and the dashboard show it.

export type PauseDto =
  | { paused: false }
  | { paused: true; reason: string; pausedAt: string; pausedBy: string | null };

export function toPauseDto(
  pause: { reason: string; pausedBy: string | null; pausedAt: number } | undefined,
): PauseDto {
  if (!pause) return { paused: false };
  return {
    paused: true,
    reason: pause.reason,
    pausedAt: new Date(pause.pausedAt).toISOString(),
    pausedBy: pause.pausedBy,
  };
}
