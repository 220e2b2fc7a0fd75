import { type CheckpointGroup, checkpointStatus } from "@/components/conversation/group-events";
import { StepBar } from "@/components/conversation/step-bar";

/**
 * The live checkpoint above the conversation: its status and its step bar, both read from its events, so they
 * never disagree (the stored status trails the runner's steps); the stored one stands in before any event.
 */
export function CheckpointHeader(props: {
  ordinal: number;
  group: CheckpointGroup;
  storedStatus: string;
  /** The live stream was lost and is being re-established (not merely connecting on a fresh load). */
  reconnecting: boolean;
  /** What goes on now (the agent's activity) or the way on from a failure. */
  children?: React.ReactNode;
}) {
  const status = checkpointStatus(props.group) ?? props.storedStatus;
  return (
    <div>
      <p className="mb-2 font-medium text-sm">
        Checkpoint {props.ordinal} · <span className="capitalize">{status}</span>
        {props.reconnecting ? (
          <span className="ml-2 text-muted-foreground text-xs" role="status">
            (reconnecting…)
          </span>
        ) : null}
      </p>
      <StepBar steps={props.group.steps} />
      {props.children}
    </div>
  );
}
