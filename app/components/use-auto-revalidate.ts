import { useRevalidator } from "@remix-run/react";
import { useEffect } from "react";

/**
 * Reloads the route's loader data every `intervalMs` while `enabled` and the
 * tab is visible, so new rows appear without a page reload.
 */
export function useAutoRevalidate(enabled: boolean, intervalMs: number): void {
  const revalidator = useRevalidator();
  useEffect(() => {
    if (!enabled) return;
    const timer = setInterval(() => {
      if (
        document.visibilityState === "visible" &&
        revalidator.state === "idle"
      ) {
        revalidator.revalidate();
      }
    }, intervalMs);
    return () => clearInterval(timer);
  }, [enabled, intervalMs, revalidator]);
}
