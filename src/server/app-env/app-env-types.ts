/** A project's variable as the API and the Settings tab read it: a secret's value is never sent back. */
export type AppEnvVar = {
  name: string;
  secret: boolean;
  /** Null for a secret. */
  value: string | null;
  updatedAt: number;
};
