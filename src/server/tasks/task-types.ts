// Client-safe: a finished checkpoint a new task can start from, as the project page's "New task" form lists it.

export type TaskStartPoint = {
  revisionId: string;
  ordinal: number;
  taskId: string;
  taskTitle: string;
  branch: string;
  isMainTask: boolean;
  prompt: string;
};
