/**
 * Returns the client address of a request. Behind a reverse proxy
 * (`trustProxy`), it is the first X-Forwarded-For address, which the proxy
 * copied from the original client. Without TRUST_PROXY the header is
 * ignored, because any client can send it to pose as another address.
 */
export function clientIpOf(
  remoteAddress: string | undefined,
  forwardedFor: string | undefined,
  trustProxy: boolean,
): string {
  if (trustProxy && forwardedFor) {
    const first = forwardedFor.split(",")[0].trim();
    if (first !== "") return first;
  }
  return remoteAddress ?? "";
}
