/** Starting points offered on the empty dashboard: each is one click from the create box. */
export const examplePrompts = [
  {
    label: "Guestbook",
    prompt: "A guestbook where visitors leave a name and a message, newest first, with a character limit.",
  },
  {
    label: "Habit tracker",
    prompt: "A habit tracker: add habits, tick them off each day, and see the current streak for each.",
  },
  {
    label: "Reading list",
    prompt:
      "A reading list with tags: add books with an author and a status (to read, reading, done), filter by tag.",
  },
  {
    label: "Team standup",
    prompt:
      "A standup board where each teammate posts what they did yesterday, what's next and any blockers.",
  },
] as const;
