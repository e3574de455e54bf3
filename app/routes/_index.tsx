import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { requireRole } from "~/auth/guard.server";

export const meta: MetaFunction = () => [{ title: "Webhook inbox" }];

export async function loader({ request }: LoaderFunctionArgs) {
  await requireRole(request, "viewer");
  return null;
}

export default function Overview() {
  return (
    <section>
      <h1 className="text-2xl font-semibold">Webhook inbox</h1>
    </section>
  );
}
