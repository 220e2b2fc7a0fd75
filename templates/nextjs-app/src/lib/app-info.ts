import appJson from "../../app.json";

/**
 * The app's name and one-line description. Kiln writes them to `app.json` when it creates the project;
 * edit that file (not this one) to rename the app.
 */
export const appInfo: { name: string; description: string } = {
  name: appJson.name,
  description: appJson.description,
};
