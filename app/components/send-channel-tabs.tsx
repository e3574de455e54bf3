import { NavLink } from "@remix-run/react";

const SEND_PAGES = [
  { to: "/send/email", label: "Email" },
  { to: "/send/whatsapp", label: "WhatsApp" },
  { to: "/send/sms", label: "SMS" },
  { to: "/send/provider", label: "Provider webhooks" },
] as const;

/** Renders links between the test-send pages and marks the current one. */
export function SendChannelTabs() {
  return (
    <nav aria-label="Test-send pages">
      <ul className="flex flex-wrap gap-2 border-b border-slate-200">
        {SEND_PAGES.map((page) => (
          <li key={page.to}>
            <NavLink
              to={page.to}
              className={({ isActive }) =>
                `-mb-px inline-block rounded-t border px-4 py-2 text-sm font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 ${
                  isActive
                    ? "border-slate-200 border-b-white bg-white text-indigo-700"
                    : "border-transparent text-slate-700 hover:bg-slate-100"
                }`
              }
            >
              {page.label}
            </NavLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}
