import type {
  ActionFunctionArgs,
  LoaderFunctionArgs,
  MetaFunction,
} from "@remix-run/node";
import { Form, useActionData, useLoaderData } from "@remix-run/react";
import { getApp } from "~/boot.server";
import { requireRole } from "~/auth/guard.server";
import { ROLES } from "~/auth/roles";
import {
  handleUserAction,
  type UserActionData,
} from "~/auth/user-admin.server";
import { listUsers } from "~/auth/users.server";

export const meta: MetaFunction = () => [{ title: "Users · Webhook inbox" }];

export async function loader({ request }: LoaderFunctionArgs) {
  const actor = await requireRole(request, "admin");
  const app = await getApp();
  const users = await listUsers(app.prisma);
  return {
    actorId: actor.id,
    users: users.map((user) => ({
      id: user.id,
      email: user.email,
      role: user.role,
      createdAt: user.createdAt.toISOString(),
    })),
  };
}

export async function action({ request }: ActionFunctionArgs) {
  const actor = await requireRole(request, "admin");
  const app = await getApp();
  return handleUserAction(app.prisma, actor.id, await request.formData());
}

const INPUT_CLASS =
  "rounded border border-slate-300 px-2 py-1 text-sm focus:border-indigo-500 focus:outline-none";
const BUTTON_CLASS =
  "rounded border border-slate-300 px-3 py-1 text-sm hover:bg-slate-100";

function FieldError({ id, message }: { id: string; message?: string }) {
  if (!message) return null;
  return (
    <p id={id} className="mt-1 text-sm text-red-700">
      {message}
    </p>
  );
}

function Notice({ result }: { result: UserActionData }) {
  if (result.formError) {
    return (
      <p role="alert" className="text-sm text-red-700">
        {result.formError}
      </p>
    );
  }
  if (result.success) {
    return (
      <p role="status" className="text-sm text-green-700">
        {result.success}
      </p>
    );
  }
  return null;
}

function CreateUserForm({ result }: { result: UserActionData | null }) {
  const errors = result?.fieldErrors ?? {};
  return (
    <Form method="post" className="flex flex-wrap items-start gap-3" noValidate>
      <input type="hidden" name="intent" value="create" />
      <div>
        <label htmlFor="new-email" className="block text-sm font-medium">
          Email
        </label>
        <input
          id="new-email"
          name="email"
          type="email"
          defaultValue={result?.values?.email}
          aria-invalid={errors.email ? true : undefined}
          aria-describedby="new-email-error"
          className={INPUT_CLASS}
        />
        <FieldError id="new-email-error" message={errors.email} />
      </div>
      <div>
        <label htmlFor="new-role" className="block text-sm font-medium">
          Role
        </label>
        <select
          id="new-role"
          name="role"
          defaultValue={result?.values?.role || "viewer"}
          aria-describedby="new-role-error"
          className={INPUT_CLASS}
        >
          {ROLES.map((role) => (
            <option key={role} value={role}>
              {role}
            </option>
          ))}
        </select>
        <FieldError id="new-role-error" message={errors.role} />
      </div>
      <div>
        <label htmlFor="new-password" className="block text-sm font-medium">
          Password
        </label>
        <input
          id="new-password"
          name="password"
          type="password"
          autoComplete="new-password"
          aria-invalid={errors.password ? true : undefined}
          aria-describedby="new-password-error"
          className={INPUT_CLASS}
        />
        <FieldError id="new-password-error" message={errors.password} />
      </div>
      <button type="submit" className={`${BUTTON_CLASS} mt-5`}>
        Create user
      </button>
      {result ? <Notice result={result} /> : null}
    </Form>
  );
}

interface UserRow {
  id: string;
  email: string;
  role: string;
  createdAt: string;
}

function UserRowForms({
  user,
  isSelf,
  result,
}: {
  user: UserRow;
  isSelf: boolean;
  result: UserActionData | null;
}) {
  const errors = result?.fieldErrors ?? {};
  const passwordId = `password-${user.id}`;
  return (
    <tr className="border-t border-slate-200 align-top">
      <td className="px-3 py-2 text-sm">
        {user.email}
        {isSelf ? <span className="text-slate-500"> (you)</span> : null}
      </td>
      <td className="px-3 py-2">
        <Form method="post" className="flex gap-2">
          <input type="hidden" name="intent" value="role" />
          <input type="hidden" name="userId" value={user.id} />
          <select
            name="role"
            defaultValue={user.role}
            aria-label={`Role of ${user.email}`}
            className={INPUT_CLASS}
          >
            {ROLES.map((role) => (
              <option key={role} value={role}>
                {role}
              </option>
            ))}
          </select>
          <button type="submit" className={BUTTON_CLASS}>
            Change role
          </button>
        </Form>
        <FieldError id={`role-${user.id}-error`} message={errors.role} />
      </td>
      <td className="px-3 py-2">
        <Form method="post" className="flex gap-2" noValidate>
          <input type="hidden" name="intent" value="password" />
          <input type="hidden" name="userId" value={user.id} />
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            aria-label={`New password for ${user.email}`}
            aria-describedby={`${passwordId}-error`}
            className={INPUT_CLASS}
          />
          <button type="submit" className={BUTTON_CLASS}>
            Reset password
          </button>
        </Form>
        <FieldError id={`${passwordId}-error`} message={errors.password} />
      </td>
      <td className="px-3 py-2">
        <Form method="post">
          <input type="hidden" name="intent" value="delete" />
          <input type="hidden" name="userId" value={user.id} />
          <button
            type="submit"
            aria-label={`Delete ${user.email}`}
            className={`${BUTTON_CLASS} text-red-700`}
          >
            Delete
          </button>
        </Form>
      </td>
      <td className="py-2">{result ? <Notice result={result} /> : null}</td>
    </tr>
  );
}

export default function Users() {
  const { users, actorId } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>() ?? null;
  const createResult = result?.intent === "create" ? result : null;
  return (
    <section className="space-y-6">
      <h1 className="text-2xl font-semibold">Users</h1>
      <div className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 className="mb-3 text-lg font-medium">Create a user</h2>
        <CreateUserForm result={createResult} />
      </div>
      {result &&
      result.intent !== "create" &&
      !users.some((user) => user.id === result.userId) ? (
        <Notice result={result} />
      ) : null}
      <div className="overflow-x-auto rounded border border-slate-200 bg-white">
        <table className="w-full text-left">
          <thead>
            <tr className="text-sm text-slate-600">
              <th scope="col" className="px-3 py-2 font-medium">
                Email
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                Role
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                Password
              </th>
              <th scope="col" className="px-3 py-2 font-medium">
                Delete
              </th>
              <th className="py-2 font-medium">Result</th>
            </tr>
          </thead>
          <tbody>
            {users.map((user) => (
              <UserRowForms
                key={user.id}
                user={user}
                isSelf={user.id === actorId}
                result={
                  result &&
                  result.intent !== "create" &&
                  result.userId === user.id
                    ? result
                    : null
                }
              />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
