import type { ActionFunctionArgs } from "@remix-run/node";
import { redirect } from "@remix-run/node";
import { getApp } from "~/boot.server";
import { destroyUserSession } from "~/auth/session.server";
import { assertSameOrigin } from "~/security/origin.server";

// Logging out changes state, so it is a POST; a GET only goes home.
export function loader() {
  return redirect("/");
}

export async function action({ request }: ActionFunctionArgs) {
  const app = await getApp();
  assertSameOrigin(request, app.env);
  return destroyUserSession(request, app.env, "/login");
}
