import type { SockJSOptions } from "../../config";
import { decodeSendPayload, PayloadError } from "../../protocol/sockjs/frames";
import { callbackProblem, type ReceiverTransport, receiverFraming } from "../../protocol/sockjs/receiver-framing";
import { clientAddress } from "../client-address";
import type { OpenSession } from "./channel";
import { clientSessionCookie, refererOrigin, sessionHeaders, sockjsError } from "./headers";
import { HttpSession } from "./http-session";
import { openReceiver } from "./receiver";

/** Largest xhr_send / jsonp_send body accepted; application limits (STOMP frame size) apply after. */
const MAX_SEND_BYTES = 1_048_576;

/**
 * The HTTP-transport sessions held by one object (in memory: a restarted object
 * answers 404 to senders and a fresh open frame to receivers, and clients reconnect).
 */
export class SessionServer {
  private readonly sessions = new Map<string, HttpSession>();
  /** Who opened each session, when sessions are bound. */
  private readonly owners = new Map<string, Owner>();

  constructor(
    private readonly options: SockJSOptions,
    private readonly openSession: OpenSession,
    /**
     * Session ids are chosen by clients and can leak (logs, proxies): a bound session
     * answers only requests from the Origin and address that opened it, and with
     * cookie_needed only those carrying the JSESSIONID it was opened with (the client's, or
     * one issued then); any other gets the same 404 as an unknown session, so nothing is
     * revealed.
     */
    private readonly bindSessions = false,
  ) {}

  has(sessionId: string): boolean {
    return this.sessions.has(sessionId);
  }

  get size(): number {
    return this.sessions.size;
  }

  async handle(
    request: Request,
    sessionId: string,
    transport: ReceiverTransport | "xhr_send" | "jsonp_send",
  ): Promise<Response> {
    // Read the body before answering, whatever the answer: workerd fails the connection
    // ("Can't read from request stream after response has been sent") otherwise.
    const body = await readBody(request);
    if (body === undefined)
      return sockjsError(413, "Payload too large.", sessionHeaders(request, this.options, "text/plain; charset=UTF-8"));
    const owner = this.owners.get(sessionId);
    if (owner !== undefined && !isOwner(owner, request)) return sockjsError(404, "Session not found.");
    if (transport === "xhr_send" || transport === "jsonp_send") return this.send(request, body, sessionId, transport);
    return this.receive(request, sessionId, transport);
  }

  private ownerOf(request: Request): Owner {
    const page = pageOf(request);
    return this.options.cookieNeeded ? { page, cookie: clientSessionCookie(request) ?? issueCookie() } : { page };
  }

  private receive(request: Request, sessionId: string, transport: ReceiverTransport): Promise<Response> | Response {
    let callback = "";
    if (transport === "jsonp" || transport === "htmlfile") {
      callback = new URL(request.url).searchParams.get("c") ?? "";
      const problem = callbackProblem(callback);
      if (problem) return sockjsError(500, problem);
    }
    const existing = this.sessions.get(sessionId);
    const owner = existing ? this.owners.get(sessionId) : this.bindSessions ? this.ownerOf(request) : undefined;
    const framing = receiverFraming(transport, callback);
    const headers = sessionHeaders(request, this.options, framing.contentType, owner?.cookie);
    const receiver = openReceiver(framing, headers, this.options.responseLimit);
    if (existing) {
      existing.attach(receiver);
    } else {
      const session = new HttpSession(this.options, () => {
        if (this.sessions.get(sessionId) !== session) return;
        this.sessions.delete(sessionId);
        this.owners.delete(sessionId);
      });
      this.sessions.set(sessionId, session);
      if (owner) this.owners.set(sessionId, owner);
      session.open(receiver, this.openSession, request);
    }
    return receiver.response;
  }

  private send(request: Request, body: string, sessionId: string, transport: "xhr_send" | "jsonp_send"): Response {
    const session = this.sessions.get(sessionId);
    if (!session) return sockjsError(404, "Session not found.");
    const headers = sessionHeaders(
      request,
      this.options,
      "text/plain; charset=UTF-8",
      this.owners.get(sessionId)?.cookie,
    );
    if (transport === "jsonp_send" && isForm(request)) body = new URLSearchParams(body).get("d") ?? "";
    let messages: string[];
    try {
      messages = decodeSendPayload(body);
    } catch (err) {
      if (err instanceof PayloadError) return sockjsError(500, err.message, headers);
      throw err;
    }
    session.receive(messages);
    // jsonp_send answers "ok" (some browsers mishandle 204); xhr_send is 204 but still text/plain.
    return transport === "jsonp_send" ? new Response("ok", { headers }) : new Response(null, { status: 204, headers });
  }
}

/** The request body as text; undefined past MAX_SEND_BYTES. */
async function readBody(request: Request): Promise<string | undefined> {
  if (Number(request.headers.get("Content-Length") ?? 0) > MAX_SEND_BYTES) return undefined;
  const body = await request.text();
  return body.length > MAX_SEND_BYTES ? undefined : body;
}

/**
 * What a session is bound to: the page it runs in and the client's address (set by
 * Cloudflare's edge), plus its JSESSIONID with cookie_needed. A page's script-loaded
 * requests (jsonp, htmlfile) carry no Origin but a Referer from the same page, so that
 * stands in.
 */
interface Owner {
  page: string;
  cookie?: string;
}

function pageOf(request: Request): string {
  return `${request.headers.get("Origin") ?? refererOrigin(request) ?? ""} ${clientAddress(request)}`;
}

function isOwner(owner: Owner, request: Request): boolean {
  return (
    owner.page === pageOf(request) && (owner.cookie === undefined || owner.cookie === clientSessionCookie(request))
  );
}

/** 128 random bits, URL-safe. */
function issueCookie(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

function isForm(request: Request): boolean {
  return (request.headers.get("Content-Type") ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded");
}
