import { quote } from "./frames";

/**
 * How each HTTP receiving transport wraps frames on the wire. Pure: the session code
 * decides what to send, this decides how it looks.
 */
export type ReceiverTransport = "xhr" | "xhr_streaming" | "eventsource" | "htmlfile" | "jsonp";

export interface ReceiverFraming {
  contentType: string;
  /** Streaming responses stay open for many frames; polling ones carry exactly one. */
  streaming: boolean;
  /** Sent before the first frame (not counted against the response limit). */
  prelude: string;
  wrap(frame: string): string;
}

// Browsers buffer the start of a streamed XHR response; 2 KiB of `h` gets past that.
const XHR_STREAMING_PRELUDE = `${"h".repeat(2048)}\n`;
const HTMLFILE_MIN_PRELUDE = 1024;

export function receiverFraming(transport: ReceiverTransport, callback = ""): ReceiverFraming {
  switch (transport) {
    case "xhr":
      return { contentType: JS, streaming: false, prelude: "", wrap: (f) => `${f}\n` };
    case "xhr_streaming":
      return { contentType: JS, streaming: true, prelude: XHR_STREAMING_PRELUDE, wrap: (f) => `${f}\n` };
    case "eventsource":
      // The leading CRLF works around an old Opera bug; the spec keeps it.
      return {
        contentType: "text/event-stream",
        streaming: true,
        prelude: "\r\n",
        wrap: (f) => `data: ${f}\r\n\r\n`,
      };
    case "htmlfile":
      return {
        contentType: "text/html; charset=UTF-8",
        streaming: true,
        prelude: htmlfilePrelude(callback),
        wrap: (f) => `<script>\np(${scriptSafe(quote(f))});\n</script>\r\n`,
      };
    case "jsonp":
      // The leading comment keeps a reflected callback from starting a Flash file (Rosetta Flash).
      return { contentType: JS, streaming: false, prelude: "", wrap: (f) => `/**/${callback}(${quote(f)});\r\n` };
  }
}

const JS = "application/javascript; charset=UTF-8";

/** Why a jsonp/htmlfile `c` parameter is unusable, in the spec's words; undefined if fine. */
export function callbackProblem(callback: string | null): string | undefined {
  if (!callback) return '"callback" parameter required';
  // The callback is echoed into a script: only identifier-ish characters may pass.
  if (!/^[a-zA-Z0-9_.-]{1,256}$/.test(callback)) return 'invalid "callback" parameter';
  return undefined;
}

function htmlfilePrelude(callback: string): string {
  const head = `<!doctype html>
<html><head>
  <meta http-equiv="X-UA-Compatible" content="IE=edge" />
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
</head><body><h2>Don't panic!</h2>
  <script>
    document.domain = document.domain;
    var c = parent.${callback};
    c.start();
    function p(d) {c.message(d);};
    window.onload = function() {c.stop();};
  </script>`;
  // Old IE renders nothing until it has 1 KiB of document; pad past that.
  return `${head}${" ".repeat(Math.max(0, HTMLFILE_MIN_PRELUDE - head.length + 14))}\r\n\r\n`;
}

/** A JSON string inside a <script> must not contain `</script>`: escape every `<`. */
function scriptSafe(json: string): string {
  return json.replace(/</g, "\\u003c");
}
