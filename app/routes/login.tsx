import type {
  ActionFunctionArgs,
  HeadersFunction,
  LoaderFunctionArgs,
  MetaFunction,
} from "@remix-run/node";
import { redirect } from "@remix-run/node";
import {
  Form,
  useActionData,
  useNavigation,
  useSearchParams,
} from "@remix-run/react";
import { getOptionalUser } from "~/auth/guard.server";
import { handleLogin } from "~/auth/login.server";
import { safeRedirectPath } from "~/auth/redirect";
import { assertSameOrigin } from "~/security/origin.server";
import { env } from "~/env.server";

export const meta: MetaFunction = () => [{ title: "Sign in · Webhook inbox" }];

// Passes Retry-After from a rate-limited login to the HTML response.
export const headers: HeadersFunction = ({ actionHeaders }) => {
  const headers = new Headers();
  const retryAfter = actionHeaders.get("Retry-After");
  if (retryAfter) headers.set("Retry-After", retryAfter);
  return headers;
};

export async function loader({ request }: LoaderFunctionArgs) {
  const user = await getOptionalUser(request);
  if (user) {
    const url = new URL(request.url);
    throw redirect(safeRedirectPath(url.searchParams.get("redirectTo")));
  }
  return null;
}

export async function action({ request, context }: ActionFunctionArgs) {
  assertSameOrigin(request, env());
  const clientAddress = (context as { clientAddress?: string }).clientAddress;
  return handleLogin(request, clientAddress);
}

const INPUT_CLASS =
  "mt-1 block w-full rounded border border-slate-300 px-3 py-2 text-sm focus:border-indigo-500 focus:outline-none focus:ring-1 focus:ring-indigo-500";

export default function Login() {
  const result = useActionData<typeof action>();
  const [searchParams] = useSearchParams();
  const navigation = useNavigation();
  const redirectTo = safeRedirectPath(searchParams.get("redirectTo"));
  const errors = result?.fieldErrors ?? {};
  return (
    <section className="mx-auto mt-12 max-w-sm rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
      <h1 className="text-xl font-semibold">Sign in</h1>
      <Form method="post" className="mt-4 space-y-4" noValidate>
        <input type="hidden" name="redirectTo" value={redirectTo} />
        {result?.formError ? (
          <p
            role="alert"
            className="rounded bg-red-50 px-3 py-2 text-sm text-red-700"
          >
            {result.formError}
          </p>
        ) : null}
        <div>
          <label htmlFor="email" className="block text-sm font-medium">
            Email
          </label>
          <input
            id="email"
            name="email"
            type="email"
            autoComplete="username"
            required
            defaultValue={result?.email ?? ""}
            aria-invalid={errors.email ? true : undefined}
            aria-describedby={errors.email ? "email-error" : undefined}
            className={INPUT_CLASS}
          />
          {errors.email ? (
            <p id="email-error" className="mt-1 text-sm text-red-700">
              {errors.email}
            </p>
          ) : null}
        </div>
        <div>
          <label htmlFor="password" className="block text-sm font-medium">
            Password
          </label>
          <input
            id="password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            aria-invalid={errors.password ? true : undefined}
            aria-describedby={errors.password ? "password-error" : undefined}
            className={INPUT_CLASS}
          />
          {errors.password ? (
            <p id="password-error" className="mt-1 text-sm text-red-700">
              {errors.password}
            </p>
          ) : null}
        </div>
        <button
          type="submit"
          disabled={navigation.state === "submitting"}
          className="w-full rounded bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-700 disabled:opacity-60"
        >
          Sign in
        </button>
      </Form>
    </section>
  );
}
