import { errorResponse } from "@/server/entry/api-route";
import { AppError } from "@/server/errors";

// Unknown API paths answer in the API's own error shape instead of an HTML 404 page.
const notFound = async () => errorResponse(new AppError("not_found:route"));

export const GET = notFound;
export const POST = notFound;
export const PUT = notFound;
export const PATCH = notFound;
export const DELETE = notFound;
