import type { MetaFunction } from "@remix-run/node";

export const meta: MetaFunction = () => [{ title: "Webhook inbox" }];

export default function Overview() {
  return (
    <section>
      <h1 className="text-2xl font-semibold">Webhook inbox</h1>
    </section>
  );
}
